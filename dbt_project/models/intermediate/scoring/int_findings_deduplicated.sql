{#
    The AutoQA verdict that counts for each contact x criterion: the findings of the contact's
    CURRENT check (its latest row in autoqa.contact_checks: a new contact, changed content, a new
    scorecard version in an open period, or an explicit rescore). Older checks stay in
    autoqa.findings as history and never count. Within one check, several rules for a criterion
    give the worst verdict (a criterion passes only when every rule behind it passes).
#}

with findings as (

    select * from {{ ref('stg_autoqa__findings') }}

),

checks as (

    select * from {{ ref('stg_autoqa__contact_checks') }}

),

current_checks as (

    select
        contact_id,
        scorecard_version,
        autoqa_run_id,
        check_reason,
        rescore_id,
        row_number() over (
            partition by contact_id
            order by checked_at desc, autoqa_run_id desc
        ) as check_rank

    from checks

),

current_findings as (

    select
        findings.*,
        current_checks.check_reason,
        current_checks.rescore_id

    from findings
    inner join current_checks
        on findings.contact_id = current_checks.contact_id
        and findings.autoqa_run_id = current_checks.autoqa_run_id
        and findings.scorecard_version = current_checks.scorecard_version
        and current_checks.check_rank = 1

),

ranked as (

    select
        current_findings.*,
        row_number() over (
            partition by contact_id, criterion_id
            order by
                case result
                    when 'fail' then 1
                    when 'unverifiable' then 2
                    when 'manual' then 3
                    when 'pass' then 4
                    else 5
                end,
                rule_id
        ) as severity_rank

    from current_findings

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
    evaluated_at,
    check_reason,
    rescore_id

from ranked
where severity_rank = 1
