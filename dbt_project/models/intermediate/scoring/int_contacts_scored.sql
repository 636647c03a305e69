{#
    One score per contact, by the scorecard rules:
      points_possible = weights of criteria whose result is pass or fail
      points_earned   = weights of criteria that passed
      score_pct       = 100 * earned / possible, 1 decimal
    na, unverifiable and manual_pending are out of the denominator (never counted as a pass).
    Any failed critical criterion zeroes the score, even when nothing else was scored.
    A contact with nothing scored has a NULL score (not 0, not 100).
#}

with contacts as (

    select * from {{ ref('stg_raw__contacts') }}

),

results as (

    select * from {{ ref('int_criterion_results_resolved') }}

),

per_contact as (

    select
        contact_id,
        max(scorecard_version) as scorecard_version,
        sum(case when result in ('pass', 'fail') then weight else 0 end) as points_possible,
        sum(case when result = 'pass' then weight else 0 end) as points_earned,
        sum(case when result = 'fail' and is_critical then 1 else 0 end) as critical_failures,
        sum(case when result = 'fail' then 1 else 0 end) as failed_criteria_count,
        sum(case when result = 'unverifiable' then 1 else 0 end) as unverifiable_criteria_count,
        sum(case when result = 'manual_pending' then 1 else 0 end) as pending_manual_count,
        {{ contactqa.ordered_listagg(
            measure="case
                when result = 'fail' and is_critical
                    then " ~ dbt.concat(["criterion_id", "' (critical)'"]) ~ "
                when result = 'fail'
                    then " ~ dbt.concat(["criterion_id", "' −'", contactqa.format_number('weight')]) ~ "
            end",
            order_by_columns=["section_id", "criterion_id"],
            delimiter_text="'; '"
        ) }} as deductions

    from results
    group by contact_id

),

scored as (

    select
        contacts.contact_id,
        contacts.agent_id,
        contacts.channel,
        contacts.direction,
        contacts.topic,
        contacts.language,
        contacts.started_at,
        {{ contactqa.format_period('contacts.started_at') }} as period,
        per_contact.scorecard_version,
        coalesce(per_contact.points_possible, 0) as points_possible,
        coalesce(per_contact.points_earned, 0) as points_earned,
        coalesce(per_contact.critical_failures, 0) > 0 as has_critical_error,
        coalesce(per_contact.failed_criteria_count, 0) as failed_criteria_count,
        coalesce(per_contact.unverifiable_criteria_count, 0) as unverifiable_criteria_count,
        coalesce(per_contact.pending_manual_count, 0) as pending_manual_count,
        coalesce(per_contact.deductions, '') as deductions

    from contacts
    left join per_contact
        on contacts.contact_id = per_contact.contact_id

)

select
    contact_id,
    agent_id,
    channel,
    direction,
    topic,
    language,
    started_at,
    period,
    scorecard_version,
    points_possible,
    points_earned,
    case
        when has_critical_error then 0
        when points_possible > 0 then {{ contactqa.round_to('100.0 * points_earned / points_possible', 1) }}
    end as score_pct,
    has_critical_error,
    failed_criteria_count,
    unverifiable_criteria_count,
    pending_manual_count,
    deductions

from scored
