-- Targeted picks are capped per agent x plan period and never take a random pick's place: a stratum
-- short of its quota must have had no more eligible contacts.
{%- set cap = var('sampling_plan')['targeted'].get('cap_per_agent', 0) | int %}
select agent_id, sample_period, 'targeted over cap' as problem
from {{ ref('fct_monitoring_sample') }}
where sample_type = 'targeted'
group by agent_id, sample_period
having count(*) > {{ cap }}

union all

select agent_id, sample_period, 'short of quota with contacts left'
from {{ ref('fct_sample_plan') }}
where random_picks < quota
    and contacts_eligible - unusable_picks > random_picks
