{#
    One row per agent x local period (period_type week | month) with contacts: the agent's rows of
    fct_score_estimates (census and sample scores with n and 95% intervals, sufficiency, volumes,
    critical errors, trend) with the directory's name, team and addresses, and whether the period
    is closed. score_pct / score_ci_*_pct are the census score (what the feedback email leads with).
#}

with estimates as (

    select * from {{ ref('fct_score_estimates') }}
    where dimension = 'agent'

),

agents as (

    select * from {{ ref('dim_agents') }}

),

periods as (

    select * from {{ ref('dim_periods') }}

)

select
    cast(estimates.dimension_value as {{ dbt.type_string() }}) as agent_id,
    estimates.period_type,
    estimates.period,
    cast(agents.full_name as {{ dbt.type_string() }}) as full_name,
    cast(agents.email as {{ dbt.type_string() }}) as email,
    cast(agents.team as {{ dbt.type_string() }}) as team,
    cast(agents.supervisor_email as {{ dbt.type_string() }}) as supervisor_email,
    cast(agents.locale as {{ dbt.type_string() }}) as locale,
    estimates.contacts_offered,
    estimates.contacts_answered,
    estimates.contacts_unanswered,
    estimates.contacts_abandoned,
    estimates.contacts_no_agent_turn,
    cast(estimates.contacts_answered as {{ dbt.type_bigint() }}) as contacts_handled,
    estimates.contacts_scored,
    estimates.contacts_with_critical_error,
    estimates.failed_criteria_count,
    estimates.critical_error_rate_pct,
    estimates.score_pct,
    estimates.score_ci_low_pct,
    estimates.score_ci_high_pct,
    estimates.sample_evaluations,
    estimates.sample_score_pct,
    estimates.sample_ci_low_pct,
    estimates.sample_ci_high_pct,
    estimates.evaluations_needed,
    estimates.is_sample_sufficient,
    estimates.previous_period,
    estimates.previous_score_pct,
    estimates.score_change_pct,
    estimates.scorecard_versions,
    periods.starts_on as period_starts_on,
    periods.ends_on as period_ends_on,
    periods.closes_on as period_closes_on,
    periods.is_closed

from estimates
left join agents
    on estimates.dimension_value = agents.agent_id
left join periods
    on estimates.period_type = periods.period_type
    and estimates.period = periods.period
