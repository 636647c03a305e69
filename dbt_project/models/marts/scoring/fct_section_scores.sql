{# Section scores: one row per judged contact x scorecard section (int_section_scores), with its periods. #}

with sections as (

    select * from {{ ref('int_section_scores') }}

),

contacts as (

    select * from {{ ref('int_contacts_localised') }}

)

select
    cast(sections.contact_id as {{ dbt.type_string() }}) as contact_id,
    cast(sections.section_id as {{ dbt.type_string() }}) as section_id,
    cast(sections.section_title as {{ dbt.type_string() }}) as section_title,
    cast(contacts.agent_id as {{ dbt.type_string() }}) as agent_id,
    cast(contacts.channel as {{ dbt.type_string() }}) as channel,
    cast(contacts.period as {{ dbt.type_string() }}) as period,
    cast(contacts.period_week as {{ dbt.type_string() }}) as period_week,
    cast(sections.scorecard_version as {{ dbt.type_string() }}) as scorecard_version,
    cast(sections.critical_effect as {{ dbt.type_string() }}) as critical_effect,
    cast(sections.points_possible as {{ contactqa.type_double() }}) as points_possible,
    cast(sections.points_earned as {{ contactqa.type_double() }}) as points_earned,
    case when sections.points_possible > 0
        then {{ contactqa.round_to('100.0 * sections.points_earned / sections.points_possible', 1) }}
    end as section_score_pct,
    cast(sections.critical_failures > 0 as {{ dbt.type_boolean() }}) as has_critical_error

from sections
inner join contacts
    on sections.contact_id = contacts.contact_id
