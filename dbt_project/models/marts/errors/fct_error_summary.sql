{# How often each catalogued error occurred, per period x agent: the failed criteria only. #}

with criterion_results as (

    select * from {{ ref('fct_criterion_results') }}

),

agents as (

    select * from {{ ref('dim_agents') }}

),

failures as (

    select
        period,
        agent_id,
        error_code,
        error_title_en,
        error_title_ru,
        error_group,
        severity,
        count(*) as occurrences

    from criterion_results
    where result = 'fail'
        and error_code is not null
        and agent_id is not null
    group by
        period,
        agent_id,
        error_code,
        error_title_en,
        error_title_ru,
        error_group,
        severity

)

select
    cast(failures.period as {{ dbt.type_string() }}) as period,
    cast(failures.agent_id as {{ dbt.type_string() }}) as agent_id,
    cast(agents.team as {{ dbt.type_string() }}) as team,
    cast(failures.error_code as {{ dbt.type_string() }}) as error_code,
    cast(failures.error_title_en as {{ dbt.type_string() }}) as error_title_en,
    cast(failures.error_title_ru as {{ dbt.type_string() }}) as error_title_ru,
    cast(failures.error_group as {{ dbt.type_string() }}) as error_group,
    cast(failures.severity as {{ dbt.type_string() }}) as severity,
    cast(failures.occurrences as {{ dbt.type_bigint() }}) as occurrences

from failures
left join agents
    on failures.agent_id = agents.agent_id
