{#
    AutoQA writes a row per contact x criterion (x rule) on every run. Scoring uses the
    latest run's verdict; if one run has several rules for a criterion, the worst verdict wins
    (a criterion passes only when every rule behind it passes).
#}

with findings as (

    select * from {{ ref('stg_autoqa__findings') }}

),

ranked as (

    select
        contact_id,
        criterion_id,
        rule_id,
        rule_type,
        result,
        evidence_quote,
        evidence_speaker,
        evidence_offset_ms,
        evidence_detail,
        regulation_ref,
        scorecard_version,
        autoqa_run_id,
        evaluated_at,
        row_number() over (
            partition by contact_id, criterion_id
            order by
                evaluated_at desc nulls last,
                autoqa_run_id desc nulls last,
                case result
                    when 'fail' then 1
                    when 'unverifiable' then 2
                    when 'manual' then 3
                    when 'pass' then 4
                    else 5
                end,
                rule_id
        ) as recency_rank

    from findings

)

select
    contact_id,
    criterion_id,
    rule_id,
    rule_type,
    result as auto_result,
    evidence_quote,
    evidence_speaker,
    evidence_offset_ms,
    evidence_detail,
    regulation_ref,
    scorecard_version,
    autoqa_run_id,
    evaluated_at

from ranked
where recency_rank = 1
