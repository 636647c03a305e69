{#
    Every landed contact in the centre's local time, with its periods and what kind of contact it is.

      started_at_local   the start on the centre's clock (var `timezone`)
      period             local month 'YYYY-MM';  period_week  local ISO week 'YYYY-Www'
      contact_status     answered        a conversation with the agent (the only contacts scored on agent criteria)
                         unanswered      the call was not answered: no answer, busy, failed, congestion
                         abandoned       the customer left in the queue (or a chat no agent ever answered)
                         no_agent_turn   there is a conversation, but the agent never spoke in it
                                         (bot- or system-only, or only the customer): not a pass
      exclusion_reason   why the sampling plan never samples it (NULL = may be sampled):
                         short_call (talk below exclusions.min_talk_seconds), excluded_queue,
                         internal_number (customer key of an internal or test number)
#}

{%- set exclusions = var('sampling_plan')['exclusions'] -%}
{%- set min_talk = exclusions.get('min_talk_seconds', 0) | float -%}
{%- set queues = exclusions.get('queues', []) or [] -%}
{%- set customer_keys = exclusions.get('customer_keys', []) or [] %}

with contacts as (

    select * from {{ ref('stg_raw__contacts') }}

),

utterances as (

    select * from {{ ref('stg_raw__utterances') }}

),

turns as (

    select
        contact_id,
        count(*) as turn_count,
        sum(case when speaker = 'agent' then 1 else 0 end) as agent_turn_count

    from utterances
    group by contact_id

),

localised as (

    select
        contacts.contact_id,
        contacts.agent_id,
        contacts.channel,
        contacts.queue,
        contacts.topic,
        contacts.direction,
        contacts.language,
        contacts.disposition,
        contacts.started_at,
        {{ contactqa.to_local('contacts.started_at') }} as started_at_local,
        contacts.talk_seconds,
        contacts.csat_score,
        contacts.customer_key,
        coalesce(turns.turn_count, 0) as turn_count,
        coalesce(turns.agent_turn_count, 0) as agent_turn_count

    from contacts
    left join turns
        on contacts.contact_id = turns.contact_id

),

classified as (

    select
        localised.*,
        cast(started_at_local as date) as local_date,
        {{ contactqa.format_period('started_at_local') }} as period,
        {{ contactqa.format_week('started_at_local') }} as period_week,
        case
            when lower(coalesce(disposition, '')) in ('no_answer', 'busy', 'failed', 'congestion')
                then 'unanswered'
            when lower(coalesce(disposition, '')) = 'abandoned' and agent_turn_count = 0
                then 'abandoned'
            when turn_count > 0 and agent_turn_count = 0
                then 'no_agent_turn'
            else 'answered'
        end as contact_status

    from localised

)

select
    classified.*,
    contact_status = 'answered' as is_answered,
    cast(case
        {%- if min_talk > 0 %}
        when channel = 'voice' and talk_seconds is not null and talk_seconds < {{ min_talk }}
            then 'short_call'
        {%- endif %}
        {%- if queues %}
        when queue in ({% for q in queues %}{{ dbt.string_literal(dbt.escape_single_quotes(q)) }}{{ ", " if not loop.last }}{% endfor %})
            then 'excluded_queue'
        {%- endif %}
        {%- if customer_keys %}
        when customer_key in ({% for k in customer_keys %}{{ dbt.string_literal(dbt.escape_single_quotes(k)) }}{{ ", " if not loop.last }}{% endfor %})
            then 'internal_number'
        {%- endif %}
        when 1 = 0 then null
    end as {{ dbt.type_string() }}) as exclusion_reason

from classified
