{#
    The monitoring sample, decided for every contact.
      random:         the first `sample_per_agent_channel` contacts of each agent x period x channel
                      in a shuffle fixed by the seed (md5 of contact_id + `sample_seed`): the same
                      data and seed always give the same sample, a new seed gives a new one;
      critical_error: every contact where AutoQA found a critical failure, whatever its rank.
    A contact is sampled once; the critical reason wins over the random one.
#}

{%- set sample_size = var('sample_per_agent_channel') | int -%}
{%- set sample_seed = var('sample_seed') | string %}

with contacts as (

    select * from {{ ref('stg_raw__contacts') }}

),

results as (

    select * from {{ ref('int_criterion_results_resolved') }}

),

autoqa_critical_failures as (

    select distinct contact_id
    from results
    where auto_result = 'fail'
        and is_critical

),

ranked as (

    select
        contacts.contact_id,
        contacts.agent_id,
        contacts.channel,
        contacts.started_at,
        {{ contactqa.format_period('contacts.started_at') }} as period,
        {{ contactqa.sample_hash('contacts.contact_id', sample_seed) }} as sample_hash,
        autoqa_critical_failures.contact_id is not null as has_autoqa_critical_failure

    from contacts
    left join autoqa_critical_failures
        on contacts.contact_id = autoqa_critical_failures.contact_id

),

numbered as (

    select
        ranked.*,
        row_number() over (
            partition by agent_id, period, channel
            order by sample_hash, contact_id
        ) as sample_rank

    from ranked

),

decided as (

    select
        contact_id,
        agent_id,
        channel,
        started_at,
        period,
        sample_rank,
        has_autoqa_critical_failure,
        case
            when has_autoqa_critical_failure then 'critical_error'
            when sample_rank <= {{ sample_size }} then 'random'
        end as sample_reason,
        {{ dbt.string_literal(dbt.escape_single_quotes(sample_seed)) }} as sample_seed

    from numbered

)

select
    contact_id,
    agent_id,
    channel,
    started_at,
    period,
    sample_rank,
    has_autoqa_critical_failure,
    sample_reason,
    sample_reason is not null as is_sampled,
    sample_seed

from decided
