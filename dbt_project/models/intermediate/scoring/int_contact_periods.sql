{#
    Each contact twice: once in its local ISO week, once in its local month (period_type), with
    what the estimates group by (agent, team, queue, channel) and what they measure: the census
    score (every answered contact, AutoQA with human results overriding) and the human score of
    the contacts drawn at RANDOM for the sample and evaluated (targeted picks are not a random
    sample and never enter the sample estimate).
#}

with scored as (

    select * from {{ ref('int_contacts_scored') }}

),

agents as (

    select * from {{ ref('stg_raw__agents') }}

),

sampled as (

    select * from {{ ref('int_contacts_sampled') }}
    where sample_type = 'random'
        and is_sampled

),

contacts as (

    select
        scored.contact_id,
        scored.agent_id,
        agents.team,
        scored.queue,
        scored.channel,
        scored.period,
        scored.period_week,
        scored.contact_status,
        scored.score_pct,
        case when sampled.contact_id is not null then scored.human_score_pct end as sample_score_pct,
        scored.has_critical_error and scored.contact_status = 'answered' as has_critical_error,
        case when scored.contact_status = 'answered' then scored.failed_criteria_count else 0 end
            as failed_criteria_count,
        scored.scorecard_version

    from scored
    left join agents
        on scored.agent_id = agents.agent_id
    left join sampled
        on scored.contact_id = sampled.contact_id

)

select 'week' as period_type, period_week as period_key, contacts.* from contacts
union all
select 'month' as period_type, period as period_key, contacts.* from contacts
