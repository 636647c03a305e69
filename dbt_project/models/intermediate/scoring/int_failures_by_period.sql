{#
    Every failed criterion of an answered or dialled contact, once per local period type
    (week and month), with the agent's team: what the error Pareto and the agents' top errors count.
#}

with results as (

    select * from {{ ref('int_criterion_results_resolved') }}
    where result = 'fail'
        and error_code is not null

),

error_catalogue as (

    select * from {{ ref('stg_autoqa__error_catalogue') }}

),

agents as (

    select * from {{ ref('stg_raw__agents') }}

),

failures as (

    select
        results.contact_id,
        results.criterion_id,
        results.agent_id,
        coalesce(agents.team, '—') as team,
        results.period,
        results.period_week,
        results.error_code,
        error_catalogue.error_title_en,
        error_catalogue.error_title_ru,
        error_catalogue.error_group,
        error_catalogue.severity,
        results.is_critical,
        results.evidence_quote,
        results.contact_started_at

    from results
    left join error_catalogue
        on results.error_code = error_catalogue.error_code
    left join agents
        on results.agent_id = agents.agent_id

)

select 'week' as period_type, period_week as period_key, failures.* from failures
union all
select 'month' as period_type, period as period_key, failures.* from failures
