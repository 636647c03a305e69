{#
    One row per judged contact x scorecard section, for the final results (AutoQA with human
    overrides) and for the human results alone:
      points_possible  weights of the section's criteria that were pass or fail
      points_earned    what they earned (a pass its weight, an evaluator's partial points when given),
                       0 for the whole section when a critical criterion in it failed and the
                       scorecard's critical_effect is 'section'
    na, unverifiable and manual_pending are out of the denominator (never counted as a pass).
#}

with results as (

    select * from {{ ref('int_criterion_results_resolved') }}

),

versions as (

    select * from {{ ref('int_scorecard_versions_ranked') }}

),

per_section as (

    select
        results.contact_id,
        results.section_id,
        max(results.section_title) as section_title,
        results.scorecard_version,
        sum(results.points_possible) as points_possible,
        sum(results.points_earned) as points_earned_raw,
        sum(case when results.result = 'fail' and results.is_critical then 1 else 0 end) as critical_failures,
        sum(case when results.result_source = 'manual' then results.points_possible else 0 end)
            as human_points_possible,
        sum(case when results.result_source = 'manual' then results.points_earned else 0 end)
            as human_points_earned_raw,
        sum(case when results.result_source = 'manual' and results.result = 'fail' and results.is_critical
            then 1 else 0 end) as human_critical_failures,
        sum(case when results.result_source = 'manual' then 1 else 0 end) as human_results_count

    from results
    group by results.contact_id, results.section_id, results.scorecard_version

)

select
    per_section.contact_id,
    per_section.section_id,
    per_section.section_title,
    per_section.scorecard_version,
    coalesce(versions.critical_effect, 'contact') as critical_effect,
    per_section.points_possible,
    case
        when coalesce(versions.critical_effect, 'contact') = 'section' and per_section.critical_failures > 0 then 0
        else per_section.points_earned_raw
    end as points_earned,
    per_section.critical_failures,
    per_section.human_points_possible,
    case
        when coalesce(versions.critical_effect, 'contact') = 'section' and per_section.human_critical_failures > 0 then 0
        else per_section.human_points_earned_raw
    end as human_points_earned,
    per_section.human_critical_failures,
    per_section.human_results_count

from per_section
left join versions
    on per_section.scorecard_version = versions.scorecard_version
