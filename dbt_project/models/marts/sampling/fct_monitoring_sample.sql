{#
    The contacts QA specialists evaluate by hand: one row per pick, with why it was picked and who
    evaluates it. Random picks (sample_type 'random') and targeted picks ('targeted') are kept apart;
    an unusable random pick stays listed (sample_status 'unusable', is_sampled false) beside the
    replacement that took its place (sample_status 'replacement', replaces_contact_id).
#}

with sampled as (

    select * from {{ ref('int_contacts_sampled') }}

),

contacts as (

    select * from {{ ref('int_contacts_localised') }}

),

evaluated as (

    select distinct contact_id from {{ ref('int_evaluations_deduplicated') }}

)

select
    cast(sampled.contact_id as {{ dbt.type_string() }}) as contact_id,
    cast(sampled.agent_id as {{ dbt.type_string() }}) as agent_id,
    cast(sampled.team as {{ dbt.type_string() }}) as team,
    cast(sampled.channel as {{ dbt.type_string() }}) as channel,
    cast(sampled.sample_period_type as {{ dbt.type_string() }}) as period_type,
    cast(sampled.sample_period as {{ dbt.type_string() }}) as sample_period,
    cast(contacts.period as {{ dbt.type_string() }}) as period,
    cast(contacts.period_week as {{ dbt.type_string() }}) as period_week,
    cast(sampled.started_at as {{ dbt.type_timestamp() }}) as started_at,
    cast(contacts.started_at_local as {{ dbt.type_timestamp() }}) as started_at_local,
    cast(sampled.local_date as date) as local_date,
    cast(sampled.sample_type as {{ dbt.type_string() }}) as sample_type,
    cast(sampled.sample_status as {{ dbt.type_string() }}) as sample_status,
    cast(
        case
            when sampled.sample_type = 'targeted' then {{ dbt.concat(["'targeted: '", "sampled.triggers_fired"]) }}
            when sampled.sample_status = 'unusable' then {{ dbt.concat(["'unusable: '", "sampled.unusable_reason"]) }}
            when sampled.sample_status = 'replacement' then {{ dbt.concat(["'random, replaces '", "sampled.replaces_contact_id"]) }}
            else {{ dbt.concat(["'random: draw '", dbt.cast('sampled.sample_rank', dbt.type_string()), "' of '", dbt.cast('sampled.quota', dbt.type_string())]) }}
        end as {{ dbt.type_string() }}
    ) as sample_reason,
    cast(sampled.triggers_fired as {{ dbt.type_string() }}) as triggers,
    cast(sampled.sample_rank as {{ dbt.type_bigint() }}) as sample_rank,
    cast(sampled.replaces_contact_id as {{ dbt.type_string() }}) as replaces_contact_id,
    cast(sampled.assigned_evaluator_id as {{ dbt.type_string() }}) as assigned_evaluator_id,
    cast(sampled.is_sampled as {{ dbt.type_boolean() }}) as is_sampled,
    cast(evaluated.contact_id is not null as {{ dbt.type_boolean() }}) as is_evaluated,
    cast(sampled.sample_seed as {{ dbt.type_string() }}) as sample_seed

from sampled
left join contacts
    on sampled.contact_id = contacts.contact_id
left join evaluated
    on sampled.contact_id = evaluated.contact_id
