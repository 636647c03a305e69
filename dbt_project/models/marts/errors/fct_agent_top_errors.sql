{#
    Each agent's top errors per local period, for coaching: the three commonest catalogued errors,
    critical ones first, with how often, on how many contacts, and one example (the latest contact
    and its evidence quote).
#}

with failures as (

    select * from {{ ref('int_failures_by_period') }}

),

latest as (

    select
        failures.*,
        row_number() over (
            partition by period_type, period_key, agent_id, error_code
            order by contact_started_at desc, contact_id desc
        ) as recency_rank

    from failures

),

counted as (

    select
        period_type,
        period_key,
        agent_id,
        error_code,
        max(error_title_en) as error_title_en,
        max(error_title_ru) as error_title_ru,
        max(severity) as severity,
        max(case when is_critical then 1 else 0 end) as is_critical,
        count(*) as occurrences,
        count(distinct contact_id) as contacts,
        max(case when recency_rank = 1 then contact_id end) as example_contact_id,
        max(case when recency_rank = 1 then evidence_quote end) as example_quote

    from latest
    where agent_id is not null
    group by period_type, period_key, agent_id, error_code

),

ranked as (

    select
        counted.*,
        row_number() over (
            partition by period_type, period_key, agent_id
            order by is_critical desc, case when severity = 'critical' then 0 else 1 end, occurrences desc, error_code
        ) as error_rank

    from counted

)

select
    cast(period_type as {{ dbt.type_string() }}) as period_type,
    cast(period_key as {{ dbt.type_string() }}) as period,
    cast(agent_id as {{ dbt.type_string() }}) as agent_id,
    cast(error_rank as {{ dbt.type_bigint() }}) as error_rank,
    cast(error_code as {{ dbt.type_string() }}) as error_code,
    cast(error_title_en as {{ dbt.type_string() }}) as error_title_en,
    cast(error_title_ru as {{ dbt.type_string() }}) as error_title_ru,
    cast(severity as {{ dbt.type_string() }}) as severity,
    cast(is_critical = 1 as {{ dbt.type_boolean() }}) as is_critical,
    cast(occurrences as {{ dbt.type_bigint() }}) as occurrences,
    cast(contacts as {{ dbt.type_bigint() }}) as contacts,
    cast(example_contact_id as {{ dbt.type_string() }}) as example_contact_id,
    cast(example_quote as {{ dbt.type_string() }}) as example_quote

from ranked
where error_rank <= 3
