{#
    What makes an answered contact worth a targeted look (the sampling plan's `targeted.triggers`),
    one row per answered contact, a flag per trigger:
      autoqa_critical   AutoQA failed a critical criterion in the current check
      repeat_contact    the same customer came back on the same topic within `repeat_contact_hours`
      long_silence      a gap between turns of at least long_silence_seconds (transcript timings)
      complaint_topic   the topic is one of complaint_topics
      low_csat          CSAT at or below low_csat_max
    trigger_priority orders them for the per-agent cap (critical first); NULL when none fired.
#}

{%- set triggers = var('sampling_plan')['targeted']['triggers'] -%}
{%- set silence_s = triggers.get('long_silence_seconds') -%}
{%- set csat_max = triggers.get('low_csat_max') -%}
{%- set topics = triggers.get('complaint_topics', []) or [] -%}
{%- set repeat_hours = var('repeat_contact_hours') | int %}

with contacts as (

    select * from {{ ref('int_contacts_localised') }}
    where contact_status = 'answered'

),

findings as (

    select * from {{ ref('int_findings_deduplicated') }}

),

criteria as (

    select * from {{ ref('stg_autoqa__scorecard_criteria') }}

),

utterances as (

    select * from {{ ref('stg_raw__utterances') }}

),

critical_failures as (

    select distinct findings.contact_id
    from findings
    inner join criteria
        on findings.scorecard_version = criteria.scorecard_version
        and findings.criterion_id = criteria.criterion_id
    where findings.auto_result = 'fail'
        and criteria.is_critical

),

gaps as (

    select
        contact_id,
        offset_ms - lag(end_offset_ms) over (partition by contact_id order by utterance_seq) as gap_ms

    from utterances

),

silences as (

    select contact_id, max(gap_ms) / 1000.0 as longest_gap_seconds
    from gaps
    group by contact_id

),

customer_contacts as (

    select
        contact_id,
        started_at,
        lead(started_at) over (
            partition by customer_key, topic
            order by started_at, contact_id
        ) as next_same_topic_at

    from {{ ref('int_contacts_localised') }}
    where customer_key is not null
        and topic is not null

),

flagged as (

    select
        contacts.contact_id,
        {{ 'critical_failures.contact_id is not null' if triggers.get('autoqa_critical') else 'false' }}
            as is_autoqa_critical,
        {% if triggers.get('repeat_contact') -%}
        coalesce(customer_contacts.next_same_topic_at is not null
            and {{ dbt.datediff('customer_contacts.started_at', 'customer_contacts.next_same_topic_at', 'minute') }}
                <= {{ repeat_hours * 60 }}, false)
        {%- else -%} false {%- endif %} as is_repeat_contact,
        {% if silence_s -%}
        coalesce(silences.longest_gap_seconds >= {{ silence_s | float }}, false)
        {%- else -%} false {%- endif %} as is_long_silence,
        {% if topics -%}
        coalesce(contacts.topic in ({% for t in topics %}{{ dbt.string_literal(dbt.escape_single_quotes(t)) }}{{ ", " if not loop.last }}{% endfor %}), false)
        {%- else -%} false {%- endif %} as is_complaint_topic,
        {% if csat_max is not none -%}
        coalesce(contacts.csat_score <= {{ csat_max | int }}, false)
        {%- else -%} false {%- endif %} as is_low_csat

    from contacts
    left join critical_failures
        on contacts.contact_id = critical_failures.contact_id
    left join silences
        on contacts.contact_id = silences.contact_id
    left join customer_contacts
        on contacts.contact_id = customer_contacts.contact_id

)

select
    flagged.*,
    case
        when is_autoqa_critical then 1
        when is_complaint_topic then 2
        when is_repeat_contact then 3
        when is_long_silence then 4
        when is_low_csat then 5
    end as trigger_priority,
    trim({{ dbt.concat([
        "case when is_autoqa_critical then 'autoqa_critical ' else '' end",
        "case when is_complaint_topic then 'complaint_topic ' else '' end",
        "case when is_repeat_contact then 'repeat_contact ' else '' end",
        "case when is_long_silence then 'long_silence ' else '' end",
        "case when is_low_csat then 'low_csat ' else '' end",
    ]) }}) as triggers_fired

from flagged
