{#
    The error Pareto per team (and 'all' for the centre) x local period: each catalogued error's
    occurrences, its share of the team's errors and the cumulative share in descending order.
    is_vital_few marks the errors that together make up the first 80% (the ones to work on first).
#}

with failures as (

    select * from {{ ref('int_failures_by_period') }}

),

counted as (

    select period_type, period_key, team, error_code,
           max(error_title_en) as error_title_en, max(error_title_ru) as error_title_ru,
           max(error_group) as error_group, max(severity) as severity,
           count(*) as occurrences, count(distinct agent_id) as agents
    from failures
    group by period_type, period_key, team, error_code

    union all

    select period_type, period_key, 'all' as team, error_code,
           max(error_title_en), max(error_title_ru), max(error_group), max(severity),
           count(*), count(distinct agent_id)
    from failures
    group by period_type, period_key, error_code

),

ranked as (

    select
        counted.*,
        row_number() over (
            partition by period_type, period_key, team
            order by occurrences desc, error_code
        ) as pareto_rank,
        sum(occurrences) over (partition by period_type, period_key, team) as team_occurrences,
        sum(occurrences) over (
            partition by period_type, period_key, team
            order by occurrences desc, error_code
            rows between unbounded preceding and current row
        ) as cumulative_occurrences

    from counted

)

select
    cast(period_type as {{ dbt.type_string() }}) as period_type,
    cast(period_key as {{ dbt.type_string() }}) as period,
    cast(team as {{ dbt.type_string() }}) as team,
    cast(error_code as {{ dbt.type_string() }}) as error_code,
    cast(error_title_en as {{ dbt.type_string() }}) as error_title_en,
    cast(error_title_ru as {{ dbt.type_string() }}) as error_title_ru,
    cast(error_group as {{ dbt.type_string() }}) as error_group,
    cast(severity as {{ dbt.type_string() }}) as severity,
    cast(occurrences as {{ dbt.type_bigint() }}) as occurrences,
    cast(agents as {{ dbt.type_bigint() }}) as agents,
    cast(pareto_rank as {{ dbt.type_bigint() }}) as pareto_rank,
    {{ contactqa.round_to('100.0 * occurrences / team_occurrences', 1) }} as share_pct,
    {{ contactqa.round_to('100.0 * cumulative_occurrences / team_occurrences', 1) }} as cumulative_share_pct,
    cast(cumulative_occurrences - occurrences < 0.8 * team_occurrences as {{ dbt.type_boolean() }}) as is_vital_few

from ranked
