{#
    How often each automatic rule agrees with the evaluators, per period x criterion x rule type.
    Only contact x criterion pairs where AutoQA said pass or fail AND a production (non-calibration)
    human evaluation said pass or fail are compared; "fail" is the positive class:
      both_fail (true positive)             AutoQA fail, human fail
      auto_fail_human_pass (false positive) AutoQA fail, human pass
      auto_pass_human_fail (false negative) AutoQA pass, human fail
      both_pass (true negative)             AutoQA pass, human pass
      agreement_pct = 100 * (both_fail + both_pass) / n_compared
      precision_pct = 100 * both_fail / (both_fail + auto_fail_human_pass)   (NULL if AutoQA never failed)
      recall_pct    = 100 * both_fail / (both_fail + auto_pass_human_fail)   (NULL if humans never failed)
    Across periods, add the counts and recompute the percentages (never average them).
#}

with results as (

    select * from {{ ref('int_criterion_results_resolved') }}

),

criteria as (

    select * from {{ ref('stg_autoqa__scorecard_criteria') }}

),

compared as (

    select
        results.period,
        results.criterion_id,
        criteria.rule_type,
        results.criterion_title_en,
        results.criterion_title_ru,
        results.is_critical,
        results.auto_result,
        results.manual_result

    from results
    left join criteria
        on results.scorecard_version = criteria.scorecard_version
        and results.criterion_id = criteria.criterion_id
    where results.auto_result in ('pass', 'fail')
        and results.manual_result in ('pass', 'fail')

),

counted as (

    select
        period,
        criterion_id,
        rule_type,
        max(criterion_title_en) as criterion_title_en,
        max(criterion_title_ru) as criterion_title_ru,
        max(case when is_critical then 1 else 0 end) = 1 as is_critical,
        count(*) as n_compared,
        sum(case when auto_result = 'fail' and manual_result = 'fail' then 1 else 0 end) as both_fail,
        sum(case when auto_result = 'fail' and manual_result = 'pass' then 1 else 0 end) as auto_fail_human_pass,
        sum(case when auto_result = 'pass' and manual_result = 'fail' then 1 else 0 end) as auto_pass_human_fail,
        sum(case when auto_result = 'pass' and manual_result = 'pass' then 1 else 0 end) as both_pass

    from compared
    group by period, criterion_id, rule_type

)

select
    cast(period as {{ dbt.type_string() }}) as period,
    cast(criterion_id as {{ dbt.type_string() }}) as criterion_id,
    cast(rule_type as {{ dbt.type_string() }}) as rule_type,
    cast(criterion_title_en as {{ dbt.type_string() }}) as criterion_title_en,
    cast(criterion_title_ru as {{ dbt.type_string() }}) as criterion_title_ru,
    cast(is_critical as {{ dbt.type_boolean() }}) as is_critical,
    cast(n_compared as {{ dbt.type_bigint() }}) as n_compared,
    cast(both_fail as {{ dbt.type_bigint() }}) as both_fail,
    cast(auto_fail_human_pass as {{ dbt.type_bigint() }}) as auto_fail_human_pass,
    cast(auto_pass_human_fail as {{ dbt.type_bigint() }}) as auto_pass_human_fail,
    cast(both_pass as {{ dbt.type_bigint() }}) as both_pass,
    {{ contactqa.round_to('100.0 * (both_fail + both_pass) / n_compared', 1) }} as agreement_pct,
    case
        when both_fail + auto_fail_human_pass > 0
            then {{ contactqa.round_to('100.0 * both_fail / (both_fail + auto_fail_human_pass)', 1) }}
    end as precision_pct,
    case
        when both_fail + auto_pass_human_fail > 0
            then {{ contactqa.round_to('100.0 * both_fail / (both_fail + auto_pass_human_fail)', 1) }}
    end as recall_pct

from counted
