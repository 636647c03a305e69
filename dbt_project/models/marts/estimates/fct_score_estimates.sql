{#
    Scores with their uncertainty, per period (local ISO week and month) for every level a QA lead
    reads: dimension = agent | team | queue | channel | centre, dimension_value the agent id, team
    name, queue, channel or 'all'.

      census score   mean score of every answered, scored contact (100% AutoQA, human results
                     overriding), with n = contacts_scored and a 95% interval of the mean
                     (mean ± t·sd/√n; Student t below 30, 1.96 from 30; NULL below 2)
      sample score   mean HUMAN score of the random picks that were evaluated (targeted picks and
                     ad-hoc evaluations excluded: they are not a random sample), n and 95% interval
      sufficiency    evaluations_needed for the plan's margin of error E (margin_of_error_pct) at 95%:
                     n0 = 1.96² · p(1−p) / E² with p = the census score as a share (0.5 when unknown;
                     p(1−p) bounds the variance of a 0–100% score with mean p, so n0 is conservative),
                     finite-population corrected by the contacts scored N: n = n0 / (1 + (n0 − 1) / N),
                     rounded up, at least 1 when N > 0. is_sample_sufficient = sample_evaluations >= needed.
      trend          the previous period of the same type with data for the same group, its census
                     score and the change in points.
    Volumes: offered (every contact), answered, unanswered, abandoned, no_agent_turn.
#}

{%- set margin = var('sampling_plan').get('margin_of_error_pct', 10) | float / 100.0 %}
{%- set levels = [
    ('agent', 'agent_id'), ('team', 'team'), ('queue', 'queue'), ('channel', 'channel'), ('centre', "'all'")
] %}

with contacts as (

    select * from {{ ref('int_contact_periods') }}

),

grouped as (

    {% for dimension, expression in levels -%}
    select
        period_type,
        period_key as period,
        '{{ dimension }}' as dimension,
        coalesce(cast({{ expression }} as {{ dbt.type_string() }}), '—') as dimension_value,
        {{ contactqa.estimate_measures() }}
    from contacts
    {% if dimension == 'agent' %}where agent_id is not null{% endif %}
    group by period_type, period_key, coalesce(cast({{ expression }} as {{ dbt.type_string() }}), '—')
    {% if not loop.last %}
    union all
    {% endif %}
    {%- endfor %}

),

with_margins as (

    select
        grouped.*,
        {{ contactqa.t_critical_95('contacts_scored') }} * census_sd / sqrt(contacts_scored) as census_margin,
        {{ contactqa.t_critical_95('sample_evaluations') }} * sample_sd / sqrt(sample_evaluations) as sample_margin,
        coalesce(census_mean / 100.0, 0.5) as p

    from grouped

),

with_sufficiency as (

    select
        with_margins.*,
        1.96 * 1.96 * p * (1 - p) / {{ margin * margin }} as n0

    from with_margins

),

needed as (

    select
        with_sufficiency.*,
        case
            when contacts_scored = 0 then 0
            when n0 <= 1 then 1
            -- never more than the contacts there are (rounding could otherwise give N + 1)
            else least(contacts_scored, cast(ceil(n0 / (1 + (n0 - 1) / contacts_scored)) as {{ dbt.type_bigint() }}))
        end as evaluations_needed

    from with_sufficiency

),

trended as (

    select
        needed.*,
        lag(period) over (partition by period_type, dimension, dimension_value order by period) as previous_period,
        lag(census_mean) over (partition by period_type, dimension, dimension_value order by period) as previous_mean

    from needed

)

select
    cast(period_type as {{ dbt.type_string() }}) as period_type,
    cast(period as {{ dbt.type_string() }}) as period,
    cast(dimension as {{ dbt.type_string() }}) as dimension,
    cast(dimension_value as {{ dbt.type_string() }}) as dimension_value,
    cast(contacts_offered as {{ dbt.type_bigint() }}) as contacts_offered,
    cast(contacts_answered as {{ dbt.type_bigint() }}) as contacts_answered,
    cast(contacts_unanswered as {{ dbt.type_bigint() }}) as contacts_unanswered,
    cast(contacts_abandoned as {{ dbt.type_bigint() }}) as contacts_abandoned,
    cast(contacts_no_agent_turn as {{ dbt.type_bigint() }}) as contacts_no_agent_turn,
    cast(contacts_scored as {{ dbt.type_bigint() }}) as contacts_scored,
    {{ contactqa.round_to('census_mean', 1) }} as score_pct,
    case when census_margin is not null
        then {{ contactqa.round_to('greatest(0, least(100, census_mean - census_margin))', 1) }} end as score_ci_low_pct,
    case when census_margin is not null
        then {{ contactqa.round_to('greatest(0, least(100, census_mean + census_margin))', 1) }} end as score_ci_high_pct,
    cast(sample_evaluations as {{ dbt.type_bigint() }}) as sample_evaluations,
    {{ contactqa.round_to('sample_mean', 1) }} as sample_score_pct,
    case when sample_margin is not null
        then {{ contactqa.round_to('greatest(0, least(100, sample_mean - sample_margin))', 1) }} end as sample_ci_low_pct,
    case when sample_margin is not null
        then {{ contactqa.round_to('greatest(0, least(100, sample_mean + sample_margin))', 1) }} end as sample_ci_high_pct,
    cast(evaluations_needed as {{ dbt.type_bigint() }}) as evaluations_needed,
    cast(sample_evaluations >= evaluations_needed as {{ dbt.type_boolean() }}) as is_sample_sufficient,
    cast(contacts_with_critical_error as {{ dbt.type_bigint() }}) as contacts_with_critical_error,
    cast(failed_criteria_count as {{ dbt.type_bigint() }}) as failed_criteria_count,
    case when contacts_answered > 0
        then {{ contactqa.round_to('100.0 * contacts_with_critical_error / contacts_answered', 1) }} end as critical_error_rate_pct,
    cast(previous_period as {{ dbt.type_string() }}) as previous_period,
    {{ contactqa.round_to('previous_mean', 1) }} as previous_score_pct,
    {{ contactqa.round_to('census_mean - previous_mean', 1) }} as score_change_pct,
    cast(scorecard_versions as {{ dbt.type_string() }}) as scorecard_versions

from trended
