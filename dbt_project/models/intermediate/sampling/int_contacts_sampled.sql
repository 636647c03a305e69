{#
    The monitoring sample (seed skill 1.1), from the sampling plan (var `sampling_plan`).

    Random picks, per stratum = agent x plan period (week or month) x channel:
      - only answered contacts with an agent, not excluded by the plan (int_contacts_localised);
      - drawn in a shuffle fixed by the seed and the contact id (md5; the same on every engine);
      - spread over the days: each day's contacts are shuffled, then the draw takes every day's
        first before any day's second (days themselves in a seeded order), so N picks cover N days;
      - quota N per channel (quotas); a stratum with fewer contacts gives all it has;
      - replacement: a pick an evaluator marked unusable stays listed (status 'unusable') and the
        next contact of the same stratum in draw order takes its place (status 'replacement').
    Targeted picks, per agent x plan period: answered contacts not already drawn at random on which a
    trigger fired (int_contact_triggers), critical first, at most targeted.cap_per_agent; they are
    kept apart (sample_type 'targeted') and never take a random pick's place.
    Assignment: the period's picks in seeded order go round the evaluators (assignment.evaluators),
    skipping an evaluator of the agent's own team when avoid_own_team is set.
#}

{%- set plan = var('sampling_plan') -%}
{%- set seed = plan.get('seed', 'contactqa') | string -%}
{%- set quotas = plan.get('quotas', {}) -%}
{%- set targeted = plan.get('targeted', {}) -%}
{%- set period_column = 'period_week' if plan.get('period') == 'week' else 'period' -%}
{%- set assignment = plan.get('assignment', {}) or {} -%}
{%- set evaluators = assignment.get('evaluators', []) or [] %}

with contacts as (

    select * from {{ ref('int_contacts_localised') }}

),

agents as (

    select * from {{ ref('stg_raw__agents') }}

),

unusable as (

    select * from {{ ref('int_contacts_unusable') }}

),

triggers as (

    select * from {{ ref('int_contact_triggers') }}

),

eligible as (

    select
        contacts.contact_id,
        contacts.agent_id,
        agents.team,
        contacts.channel,
        contacts.started_at,
        contacts.local_date,
        contacts.{{ period_column }} as sample_period,
        {{ contactqa.sample_hash('contacts.contact_id', seed) }} as sample_hash,
        {{ contactqa.sample_hash(dbt.cast('contacts.local_date', dbt.type_string()), seed) }} as day_hash,
        case contacts.channel
            {%- for channel, quota in quotas.items() %}
            when {{ dbt.string_literal(channel) }} then {{ quota | int }}
            {%- endfor %}
            else 0
        end as quota,
        unusable.contact_id is not null as is_unusable,
        unusable.unusable_reason

    from contacts
    left join agents
        on contacts.agent_id = agents.agent_id
    left join unusable
        on contacts.contact_id = unusable.contact_id
    where contacts.contact_status = 'answered'
        and contacts.exclusion_reason is null
        and contacts.agent_id is not null

),

day_ranked as (

    select
        eligible.*,
        row_number() over (
            partition by agent_id, sample_period, channel, local_date
            order by sample_hash, contact_id
        ) as day_rank

    from eligible

),

drawn as (

    select
        day_ranked.*,
        row_number() over (
            partition by agent_id, sample_period, channel
            order by
                {% if plan.get('spread_over_days', true) %}day_rank, day_hash, local_date,{% endif %}
                sample_hash, contact_id
        ) as draw_rank

    from day_ranked

),

usable_ranked as (

    select
        drawn.*,
        row_number() over (
            partition by agent_id, sample_period, channel, is_unusable
            order by draw_rank
        ) as usable_rank

    from drawn

),

random_decided as (

    select
        usable_ranked.*,
        draw_rank <= quota as is_first_draw,
        not is_unusable and usable_rank <= quota as is_random_pick

    from usable_ranked

),

unusable_picks as (

    select
        agent_id, sample_period, channel, contact_id,
        row_number() over (partition by agent_id, sample_period, channel order by draw_rank) as replacement_number
    from random_decided
    where is_first_draw and is_unusable

),

replacements as (

    select
        agent_id, sample_period, channel, contact_id,
        row_number() over (partition by agent_id, sample_period, channel order by draw_rank) as replacement_number
    from random_decided
    where is_random_pick and not is_first_draw

),

random_rows as (

    select
        random_decided.contact_id,
        random_decided.agent_id,
        random_decided.team,
        random_decided.channel,
        random_decided.started_at,
        random_decided.local_date,
        random_decided.sample_period,
        random_decided.sample_hash,
        'random' as sample_type,
        case
            when random_decided.is_unusable then 'unusable'
            when random_decided.is_first_draw then 'picked'
            else 'replacement'
        end as sample_status,
        random_decided.draw_rank as sample_rank,
        random_decided.quota,
        replaced.contact_id as replaces_contact_id,
        random_decided.unusable_reason,
        cast(null as {{ dbt.type_string() }}) as triggers_fired

    from random_decided
    left join replacements
        on random_decided.contact_id = replacements.contact_id
    left join unusable_picks as replaced
        on replacements.agent_id = replaced.agent_id
        and replacements.sample_period = replaced.sample_period
        and replacements.channel = replaced.channel
        and replacements.replacement_number = replaced.replacement_number
    where random_decided.is_random_pick
        or (random_decided.is_first_draw and random_decided.is_unusable)

),

targeted_candidates as (

    select
        random_decided.*,
        triggers.trigger_priority,
        triggers.triggers_fired,
        row_number() over (
            partition by random_decided.agent_id, random_decided.sample_period
            order by triggers.trigger_priority, random_decided.sample_hash, random_decided.contact_id
        ) as targeted_rank

    from random_decided
    inner join triggers
        on random_decided.contact_id = triggers.contact_id
    where not random_decided.is_random_pick
        and not random_decided.is_unusable
        and triggers.trigger_priority is not null

),

targeted_rows as (

    select
        contact_id,
        agent_id,
        team,
        channel,
        started_at,
        local_date,
        sample_period,
        sample_hash,
        'targeted' as sample_type,
        'picked' as sample_status,
        targeted_rank as sample_rank,
        {{ targeted.get('cap_per_agent', 0) | int }} as quota,
        cast(null as {{ dbt.type_string() }}) as replaces_contact_id,
        cast(null as {{ dbt.type_string() }}) as unusable_reason,
        triggers_fired

    from targeted_candidates
    where {{ 'true' if targeted.get('enabled', true) else 'false' }}
        and targeted_rank <= {{ targeted.get('cap_per_agent', 0) | int }}

),

picks as (

    select * from random_rows
    union all
    select * from targeted_rows

),

{% if evaluators %}
evaluators as (

    {% for evaluator in evaluators -%}
    select
        {{ dbt.string_literal(dbt.escape_single_quotes(evaluator['id'] | string)) }} as evaluator_id,
        {{ dbt.string_literal(dbt.escape_single_quotes(evaluator['team'] | string)) if evaluator.get('team') else 'cast(null as ' ~ dbt.type_string() ~ ')' }} as evaluator_team
    {% if not loop.last %}union all
    {% endif %}
    {%- endfor %}

),

numbered as (

    select
        picks.*,
        row_number() over (
            partition by sample_period
            order by sample_hash, contact_id
        ) - 1 as pick_number

    from picks
    where sample_status <> 'unusable'

),

allowed as (

    select
        numbered.contact_id,
        numbered.pick_number,
        evaluators.evaluator_id,
        row_number() over (partition by numbered.contact_id order by evaluators.evaluator_id) - 1 as evaluator_index,
        count(*) over (partition by numbered.contact_id) as evaluators_allowed

    from numbered
    cross join evaluators
    {% if assignment.get('avoid_own_team') %}
    where evaluators.evaluator_team is null
        or numbered.team is null
        or evaluators.evaluator_team <> numbered.team
    {% endif %}

),

assigned as (

    select contact_id, evaluator_id as assigned_evaluator_id
    from allowed
    where evaluator_index = {{ contactqa.modulo('pick_number', 'evaluators_allowed') }}

),
{% else %}
assigned as (

    select
        cast(null as {{ dbt.type_string() }}) as contact_id,
        cast(null as {{ dbt.type_string() }}) as assigned_evaluator_id
    where 1 = 0

),
{% endif %}

final as (

    select
        picks.*,
        assigned.assigned_evaluator_id,
        picks.sample_status <> 'unusable' as is_sampled,
        {{ dbt.string_literal(dbt.escape_single_quotes(seed)) }} as sample_seed,
        {{ dbt.string_literal(plan.get('period', 'month')) }} as sample_period_type

    from picks
    left join assigned
        on picks.contact_id = assigned.contact_id

)

select * from final
