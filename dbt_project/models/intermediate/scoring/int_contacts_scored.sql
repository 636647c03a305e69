{#
    One row per landed contact, with its local periods, its status and its score:
      score_pct = 100 * earned / possible over the sections (int_section_scores), 1 decimal
    and the scorecard version's critical effect:
      contact   any failed critical criterion scores the contact 0 (even with nothing else scored)
      section   the failed critical criterion's section earns 0 (done in int_section_scores)
      separate  the score ignores it; has_critical_error reports it beside the score
    A contact that is not answered, or with nothing judged, has a NULL score (not 0, not 100).
    human_score_pct is the same computation over the evaluator's results alone (NULL when no
    human judged the contact): what the random sample's estimate is made of.
#}

with contacts as (

    select * from {{ ref('int_contacts_localised') }}

),

sections as (

    select * from {{ ref('int_section_scores') }}

),

results as (

    select * from {{ ref('int_criterion_results_resolved') }}

),

per_contact_sections as (

    select
        contact_id,
        max(scorecard_version) as scorecard_version,
        max(critical_effect) as critical_effect,
        sum(points_possible) as points_possible,
        sum(points_earned) as points_earned,
        sum(critical_failures) as critical_failures,
        sum(human_points_possible) as human_points_possible,
        sum(human_points_earned) as human_points_earned,
        sum(human_critical_failures) as human_critical_failures,
        sum(human_results_count) as human_results_count

    from sections
    group by contact_id

),

per_contact_results as (

    select
        contact_id,
        sum(case when result = 'fail' then 1 else 0 end) as failed_criteria_count,
        sum(case when result = 'unverifiable' then 1 else 0 end) as unverifiable_criteria_count,
        sum(case when result = 'manual_pending' then 1 else 0 end) as pending_manual_count,
        {{ contactqa.ordered_listagg(
            measure="case
                when result = 'fail' and is_critical
                    then " ~ dbt.concat(["criterion_id", "' (critical)'"]) ~ "
                when result = 'fail'
                    then " ~ dbt.concat(["criterion_id", "' −'", contactqa.format_number('weight - points_earned')]) ~ "
                when result = 'pass' and points_earned < weight
                    then " ~ dbt.concat(["criterion_id", "' −'", contactqa.format_number('weight - points_earned')]) ~ "
            end",
            order_by_columns=["section_id", "criterion_id"],
            delimiter_text="'; '"
        ) }} as deductions

    from results
    group by contact_id

),

joined as (

    select
        contacts.*,
        per_contact_sections.scorecard_version,
        coalesce(per_contact_sections.critical_effect, 'contact') as critical_effect,
        coalesce(per_contact_sections.points_possible, 0) as points_possible,
        coalesce(per_contact_sections.points_earned, 0) as points_earned,
        coalesce(per_contact_sections.critical_failures, 0) > 0 as has_critical_error,
        coalesce(per_contact_sections.human_points_possible, 0) as human_points_possible,
        coalesce(per_contact_sections.human_points_earned, 0) as human_points_earned,
        coalesce(per_contact_sections.human_critical_failures, 0) > 0 as has_human_critical_error,
        coalesce(per_contact_sections.human_results_count, 0) > 0 as is_human_evaluated,
        coalesce(per_contact_results.failed_criteria_count, 0) as failed_criteria_count,
        coalesce(per_contact_results.unverifiable_criteria_count, 0) as unverifiable_criteria_count,
        coalesce(per_contact_results.pending_manual_count, 0) as pending_manual_count,
        coalesce(per_contact_results.deductions, '') as deductions

    from contacts
    left join per_contact_sections
        on contacts.contact_id = per_contact_sections.contact_id
    left join per_contact_results
        on contacts.contact_id = per_contact_results.contact_id

)

select
    joined.*,
    case
        when contact_status <> 'answered' then null
        when has_critical_error and critical_effect = 'contact' then 0
        when points_possible > 0 then {{ contactqa.round_to('100.0 * points_earned / points_possible', 1) }}
    end as score_pct,
    case
        when contact_status <> 'answered' or not is_human_evaluated then null
        when has_human_critical_error and critical_effect = 'contact' then 0
        when human_points_possible > 0
            then {{ contactqa.round_to('100.0 * human_points_earned / human_points_possible', 1) }}
    end as human_score_pct

from joined
