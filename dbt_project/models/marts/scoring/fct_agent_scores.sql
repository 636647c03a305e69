{#
    One row per agent x period with contacts. The agent's score is the mean of the contact
    scores, with a 95% confidence interval of that mean (mean ± t * sd / sqrt(n); Student t for
    small n, 1.96 from 30 contacts), clipped to [0, 100] and NULL below two scored contacts.
#}

with contact_scores as (

    select * from {{ ref('fct_contact_scores') }}
    where agent_id is not null

),

agents as (

    select * from {{ ref('dim_agents') }}

),

per_agent_period as (

    select
        agent_id,
        period,
        count(*) as contacts_handled,
        count(score_pct) as contacts_scored,
        sum(case when has_critical_error then 1 else 0 end) as contacts_with_critical_error,
        avg(score_pct) as mean_score_pct,
        stddev_samp(score_pct) as stddev_score_pct,
        sum(failed_criteria_count) as failed_criteria_count

    from contact_scores
    group by agent_id, period

),

with_margin as (

    select
        per_agent_period.*,
        {{ contactqa.t_critical_95('contacts_scored') }}
            * stddev_score_pct / sqrt(contacts_scored) as margin_pct

    from per_agent_period

)

select
    cast(with_margin.agent_id as {{ dbt.type_string() }}) as agent_id,
    cast(with_margin.period as {{ dbt.type_string() }}) as period,
    cast(agents.full_name as {{ dbt.type_string() }}) as full_name,
    cast(agents.email as {{ dbt.type_string() }}) as email,
    cast(agents.team as {{ dbt.type_string() }}) as team,
    cast(agents.supervisor_email as {{ dbt.type_string() }}) as supervisor_email,
    cast(agents.locale as {{ dbt.type_string() }}) as locale,
    cast(with_margin.contacts_handled as {{ dbt.type_bigint() }}) as contacts_handled,
    cast(with_margin.contacts_scored as {{ dbt.type_bigint() }}) as contacts_scored,
    cast(with_margin.contacts_with_critical_error as {{ dbt.type_bigint() }}) as contacts_with_critical_error,
    {{ contactqa.round_to('with_margin.mean_score_pct', 1) }} as score_pct,
    -- greatest/least skip NULLs, so the n < 2 case is spelled out
    case
        when with_margin.margin_pct is not null
            then {{ contactqa.round_to('greatest(0, least(100, with_margin.mean_score_pct - with_margin.margin_pct))', 1) }}
    end as score_ci_low_pct,
    case
        when with_margin.margin_pct is not null
            then {{ contactqa.round_to('greatest(0, least(100, with_margin.mean_score_pct + with_margin.margin_pct))', 1) }}
    end as score_ci_high_pct,
    cast(with_margin.failed_criteria_count as {{ dbt.type_bigint() }}) as failed_criteria_count

from with_margin
left join agents
    on with_margin.agent_id = agents.agent_id
