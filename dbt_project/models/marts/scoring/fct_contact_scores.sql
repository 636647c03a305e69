with contacts_scored as (

    select * from {{ ref('int_contacts_scored') }}

),

agents as (

    select * from {{ ref('dim_agents') }}

),

sampled as (

    select * from {{ ref('int_contacts_sampled') }}
    where is_sampled

)

select
    cast(contacts_scored.contact_id as {{ dbt.type_string() }}) as contact_id,
    cast(contacts_scored.agent_id as {{ dbt.type_string() }}) as agent_id,
    cast(agents.team as {{ dbt.type_string() }}) as team,
    cast(contacts_scored.channel as {{ dbt.type_string() }}) as channel,
    cast(contacts_scored.queue as {{ dbt.type_string() }}) as queue,
    cast(contacts_scored.direction as {{ dbt.type_string() }}) as direction,
    cast(contacts_scored.topic as {{ dbt.type_string() }}) as topic,
    cast(contacts_scored.language as {{ dbt.type_string() }}) as language,
    cast(contacts_scored.started_at as {{ dbt.type_timestamp() }}) as started_at,
    cast(contacts_scored.started_at_local as {{ dbt.type_timestamp() }}) as started_at_local,
    cast(contacts_scored.local_date as date) as local_date,
    cast(contacts_scored.period as {{ dbt.type_string() }}) as period,
    cast(contacts_scored.period_week as {{ dbt.type_string() }}) as period_week,
    cast(contacts_scored.contact_status as {{ dbt.type_string() }}) as contact_status,
    cast(contacts_scored.score_pct is not null as {{ dbt.type_boolean() }}) as is_scored,
    cast(contacts_scored.scorecard_version as {{ dbt.type_string() }}) as scorecard_version,
    cast(contacts_scored.critical_effect as {{ dbt.type_string() }}) as critical_effect,
    cast(contacts_scored.points_possible as {{ contactqa.type_double() }}) as points_possible,
    cast(contacts_scored.points_earned as {{ contactqa.type_double() }}) as points_earned,
    cast(contacts_scored.score_pct as {{ contactqa.type_double() }}) as score_pct,
    cast(contacts_scored.human_score_pct as {{ contactqa.type_double() }}) as human_score_pct,
    cast(contacts_scored.has_critical_error as {{ dbt.type_boolean() }}) as has_critical_error,
    cast(contacts_scored.failed_criteria_count as {{ dbt.type_bigint() }}) as failed_criteria_count,
    cast(contacts_scored.unverifiable_criteria_count as {{ dbt.type_bigint() }}) as unverifiable_criteria_count,
    cast(contacts_scored.pending_manual_count as {{ dbt.type_bigint() }}) as pending_manual_count,
    cast(contacts_scored.deductions as {{ dbt.type_string() }}) as deductions,
    cast(sampled.contact_id is not null as {{ dbt.type_boolean() }}) as is_sampled,
    cast(sampled.sample_type as {{ dbt.type_string() }}) as sample_type

from contacts_scored
left join agents
    on contacts_scored.agent_id = agents.agent_id
left join sampled
    on contacts_scored.contact_id = sampled.contact_id
