{#
    Every contact x scorecard criterion that applies to it, with the AutoQA verdict, the human
    verdict and the one that counts:
      - a production human evaluation overrides AutoQA (result_source = 'manual');
      - otherwise AutoQA's pass | fail | na | unverifiable stands (result_source = 'auto');
      - a criterion only a human can judge (AutoQA said 'manual', or the scorecard marks it
        manual) and nobody has judged yet is 'manual_pending';
      - an automatic criterion AutoQA has not checked (yet) is 'unverifiable'.
    Which contacts are judged at all: an answered contact (a conversation with the agent) on every
    criterion of its channel; an unanswered OUTBOUND call only on the dialling rules (calling
    hours, call frequency: a call at 23:00 breaks the rule whether or not anyone picks up); nothing
    else (unanswered, abandoned, bot-only, no agent turn) is judged on agent criteria.
    The scorecard version is the one of the contact's current AutoQA check; a contact not checked
    yet gets the version in force on its local day.
    Points: a pass earns the weight, a fail 0; an evaluator's `points` (partial credit) count
    instead when given, clipped to 0..weight.
#}

with contacts as (

    select * from {{ ref('int_contacts_localised') }}

),

criteria as (

    select * from {{ ref('stg_autoqa__scorecard_criteria') }}

),

versions as (

    select * from {{ ref('int_scorecard_versions_ranked') }}

),

findings as (

    select * from {{ ref('int_findings_deduplicated') }}

),

evaluations as (

    select * from {{ ref('int_evaluations_deduplicated') }}

),

checked_versions as (

    select contact_id, max(scorecard_version) as scorecard_version
    from findings
    group by contact_id

),

in_force_candidates as (

    select
        contacts.contact_id,
        versions.scorecard_version,
        row_number() over (
            partition by contacts.contact_id
            order by
                case when versions.effective_from is null or versions.effective_from <= contacts.local_date
                    then 0 else 1 end,
                case when versions.effective_from is null or versions.effective_from <= contacts.local_date
                    then versions.version_order else versions.version_age_rank end
        ) as candidate_rank

    from contacts
    cross join versions

),

contacts_versioned as (

    select
        contacts.*,
        coalesce(checked_versions.scorecard_version, in_force_candidates.scorecard_version)
            as scorecard_version

    from contacts
    left join checked_versions
        on contacts.contact_id = checked_versions.contact_id
    left join in_force_candidates
        on contacts.contact_id = in_force_candidates.contact_id
        and in_force_candidates.candidate_rank = 1
    where contacts.contact_status = 'answered'
        or (contacts.contact_status = 'unanswered' and contacts.direction = 'outbound')

),

applicable_criteria as (

    select
        contacts_versioned.contact_id,
        contacts_versioned.agent_id,
        contacts_versioned.channel,
        contacts_versioned.started_at,
        contacts_versioned.started_at_local,
        contacts_versioned.period,
        contacts_versioned.period_week,
        contacts_versioned.contact_status,
        contacts_versioned.scorecard_version,
        criteria.criterion_id,
        criteria.section_id,
        criteria.section_title,
        criteria.criterion_title_en,
        criteria.criterion_title_ru,
        criteria.weight,
        criteria.is_critical,
        criteria.is_manual,
        criteria.rule_type as criterion_rule_type,
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
    where contacts_versioned.contact_status = 'answered'
        or criteria.rule_type in ('calling_hours', 'contact_frequency')

),

resolved as (

    select
        applicable_criteria.contact_id,
        applicable_criteria.criterion_id,
        applicable_criteria.agent_id,
        applicable_criteria.channel,
        applicable_criteria.started_at as contact_started_at,
        applicable_criteria.started_at_local as contact_started_at_local,
        applicable_criteria.period,
        applicable_criteria.period_week,
        applicable_criteria.contact_status,
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
        evaluations.manual_points,
        -- agreement only means something where AutoQA gave a verdict a human can confirm
        case
            when evaluations.manual_result is not null
                and findings.auto_result in ('pass', 'fail', 'na')
                then findings.auto_result = evaluations.manual_result
        end as is_agreement,

        findings.rule_id,
        findings.autoqa_run_id,
        findings.check_reason,
        findings.rescore_id,
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

select
    resolved.*,
    case when result in ('pass', 'fail') then weight else 0 end as points_possible,
    case
        when result not in ('pass', 'fail') then 0
        when result_source = 'manual' and manual_points is not null
            then case when manual_points < 0 then 0 when manual_points > weight then weight else manual_points end
        when result = 'pass' then weight
        else 0
    end as points_earned

from resolved
