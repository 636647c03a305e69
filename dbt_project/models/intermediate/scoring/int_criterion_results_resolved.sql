{#
    Every contact x scorecard criterion that applies to the contact's channel, with the
    AutoQA verdict, the human verdict and the one that counts:
      - a production human evaluation overrides AutoQA (result_source = 'manual');
      - otherwise AutoQA's pass | fail | na | unverifiable stands (result_source = 'auto');
      - a criterion only a human can judge (AutoQA said 'manual', or the scorecard marks it
        manual) and nobody has judged yet is 'manual_pending';
      - an automatic criterion AutoQA has not checked (yet) is 'unverifiable'.
    The scorecard version is the one AutoQA last checked the contact against; contacts AutoQA
    has not seen use the newest version.
#}

with contacts as (

    select * from {{ ref('stg_raw__contacts') }}

),

criteria as (

    select * from {{ ref('stg_autoqa__scorecard_criteria') }}

),

findings as (

    select * from {{ ref('int_findings_deduplicated') }}

),

evaluations as (

    select * from {{ ref('int_evaluations_deduplicated') }}

),

newest_scorecard as (

    select max(scorecard_version) as scorecard_version
    from criteria

),

findings_by_recency as (

    select
        contact_id,
        scorecard_version,
        row_number() over (
            partition by contact_id
            order by evaluated_at desc nulls last, scorecard_version desc
        ) as recency_rank

    from findings
    where scorecard_version is not null

),

contacts_versioned as (

    select
        contacts.contact_id,
        contacts.agent_id,
        contacts.channel,
        contacts.started_at,
        coalesce(findings_by_recency.scorecard_version, newest_scorecard.scorecard_version)
            as scorecard_version

    from contacts
    cross join newest_scorecard
    left join findings_by_recency
        on contacts.contact_id = findings_by_recency.contact_id
        and findings_by_recency.recency_rank = 1

),

applicable_criteria as (

    select
        contacts_versioned.contact_id,
        contacts_versioned.agent_id,
        contacts_versioned.channel,
        contacts_versioned.started_at,
        contacts_versioned.scorecard_version,
        criteria.criterion_id,
        criteria.section_id,
        criteria.section_title,
        criteria.criterion_title_en,
        criteria.criterion_title_ru,
        criteria.weight,
        criteria.is_critical,
        criteria.is_manual,
        criteria.error_code,
        criteria.regulation_ref

    from contacts_versioned
    inner join criteria
        on contacts_versioned.scorecard_version = criteria.scorecard_version
        -- channels is a comma-joined list ('voice,chat'); empty means every channel
        and (
            criteria.channels is null
            or trim(criteria.channels) = ''
            or {{ dbt.concat(["','", "replace(lower(criteria.channels), ' ', '')", "','"]) }}
                like {{ dbt.concat(["'%,'", "lower(contacts_versioned.channel)", "',%'"]) }}
        )

),

resolved as (

    select
        applicable_criteria.contact_id,
        applicable_criteria.criterion_id,
        applicable_criteria.agent_id,
        applicable_criteria.channel,
        applicable_criteria.started_at as contact_started_at,
        {{ contactqa.format_period('applicable_criteria.started_at') }} as period,
        applicable_criteria.scorecard_version,
        applicable_criteria.section_id,
        applicable_criteria.section_title,
        applicable_criteria.criterion_title_en,
        applicable_criteria.criterion_title_ru,
        applicable_criteria.weight,
        applicable_criteria.is_critical,
        applicable_criteria.is_manual,
        applicable_criteria.error_code,
        coalesce(findings.regulation_ref, applicable_criteria.regulation_ref) as regulation_ref,

        case
            when evaluations.manual_result is not null then evaluations.manual_result
            when findings.auto_result in ('pass', 'fail', 'na', 'unverifiable') then findings.auto_result
            when findings.auto_result = 'manual' or applicable_criteria.is_manual then 'manual_pending'
            else 'unverifiable'
        end as result,
        case
            when evaluations.manual_result is not null then 'manual'
            else 'auto'
        end as result_source,
        findings.auto_result,
        evaluations.manual_result,
        -- agreement only means something where AutoQA gave a verdict a human can confirm
        case
            when evaluations.manual_result is not null
                and findings.auto_result in ('pass', 'fail', 'na')
                then findings.auto_result = evaluations.manual_result
        end as is_agreement,

        findings.rule_id,
        findings.autoqa_run_id,
        findings.evidence_quote,
        findings.evidence_speaker,
        findings.evidence_offset_ms,
        findings.evidence_detail,
        evaluations.evaluation_id,
        evaluations.evaluator_id,
        evaluations.evaluator_comment

    from applicable_criteria
    left join findings
        on applicable_criteria.contact_id = findings.contact_id
        and applicable_criteria.criterion_id = findings.criterion_id
    left join evaluations
        on applicable_criteria.contact_id = evaluations.contact_id
        and applicable_criteria.criterion_id = evaluations.criterion_id

)

select * from resolved
