-- No stratum (agent x plan period x channel) may hold more random picks than its quota, and no
-- contact that is not answered may be picked.
select agent_id, sample_period, channel, 'over quota' as problem
from {{ ref('fct_sample_plan') }}
where random_picks > quota

union all

select sample.agent_id, sample.sample_period, sample.channel, 'not answered: ' || sample.contact_id
from {{ ref('fct_monitoring_sample') }} as sample
inner join {{ ref('fct_contact_scores') }} as scores
    on sample.contact_id = scores.contact_id
where scores.contact_status <> 'answered'
