-- No agent x period x channel stratum may hold more random picks than the quota.
select
    agent_id,
    period,
    channel,
    count(*) as random_picks
from {{ ref('fct_monitoring_sample') }}
where sample_reason = 'random'
group by agent_id, period, channel
having count(*) > {{ var('sample_per_agent_channel') | int }}
