{#
    The plan against what it drew, per stratum = agent x plan period x channel: how many contacts
    could be sampled (answered, not excluded), the quota, the random picks drawn, unusable and
    replaced, evaluated so far, and the shortfall when the stratum had fewer contacts than its quota.
    Targeted picks are counted per stratum too, apart from the random ones.
#}

{%- set plan = var('sampling_plan') -%}
{%- set period_column = 'period_week' if plan.get('period') == 'week' else 'period' -%}
{%- set quotas = plan.get('quotas', {}) %}

with contacts as (

    select * from {{ ref('int_contacts_localised') }}
    where agent_id is not null

),

sample as (

    select * from {{ ref('fct_monitoring_sample') }}

),

strata as (

    select
        agent_id,
        {{ period_column }} as sample_period,
        channel,
        count(*) as contacts_offered,
        sum(case when contact_status = 'answered' then 1 else 0 end) as contacts_answered,
        sum(case when contact_status = 'answered' and exclusion_reason is null then 1 else 0 end) as contacts_eligible,
        sum(case when contact_status = 'answered' and exclusion_reason is not null then 1 else 0 end) as contacts_excluded

    from contacts
    group by agent_id, {{ period_column }}, channel

),

picks as (

    select
        agent_id,
        sample_period,
        channel,
        sum(case when sample_type = 'random' and is_sampled then 1 else 0 end) as random_picks,
        sum(case when sample_type = 'random' and sample_status = 'unusable' then 1 else 0 end) as unusable_picks,
        sum(case when sample_type = 'random' and sample_status = 'replacement' then 1 else 0 end) as replacements,
        sum(case when sample_type = 'targeted' then 1 else 0 end) as targeted_picks,
        sum(case when sample_type = 'random' and is_sampled and is_evaluated then 1 else 0 end) as random_evaluated

    from sample
    group by agent_id, sample_period, channel

)

select
    cast(strata.agent_id as {{ dbt.type_string() }}) as agent_id,
    cast({{ dbt.string_literal(plan.get('period', 'month')) }} as {{ dbt.type_string() }}) as period_type,
    cast(strata.sample_period as {{ dbt.type_string() }}) as sample_period,
    cast(strata.channel as {{ dbt.type_string() }}) as channel,
    cast(strata.contacts_offered as {{ dbt.type_bigint() }}) as contacts_offered,
    cast(strata.contacts_answered as {{ dbt.type_bigint() }}) as contacts_answered,
    cast(strata.contacts_eligible as {{ dbt.type_bigint() }}) as contacts_eligible,
    cast(strata.contacts_excluded as {{ dbt.type_bigint() }}) as contacts_excluded,
    cast(case strata.channel
        {%- for channel, quota in quotas.items() %}
        when {{ dbt.string_literal(channel) }} then {{ quota | int }}
        {%- endfor %}
        else 0 end as {{ dbt.type_bigint() }}) as quota,
    cast(coalesce(picks.random_picks, 0) as {{ dbt.type_bigint() }}) as random_picks,
    cast(coalesce(picks.unusable_picks, 0) as {{ dbt.type_bigint() }}) as unusable_picks,
    cast(coalesce(picks.replacements, 0) as {{ dbt.type_bigint() }}) as replacements,
    cast(coalesce(picks.targeted_picks, 0) as {{ dbt.type_bigint() }}) as targeted_picks,
    cast(coalesce(picks.random_evaluated, 0) as {{ dbt.type_bigint() }}) as random_evaluated,
    cast(case strata.channel
        {%- for channel, quota in quotas.items() %}
        when {{ dbt.string_literal(channel) }} then {{ quota | int }}
        {%- endfor %}
        else 0 end - coalesce(picks.random_picks, 0) as {{ dbt.type_bigint() }}) as shortfall

from strata
left join picks
    on strata.agent_id = picks.agent_id
    and strata.sample_period = picks.sample_period
    and strata.channel = picks.channel
