{#
    The human verdict that counts for production scoring: the latest evaluation of each
    contact x criterion outside calibration sessions. Calibration rows are exercises that
    compare evaluators with a reference; they must never change an agent's score.
    `points` is the evaluator's partial credit where the scorecard allows it (NULL: all or nothing).
    A contact marked unusable (result 'unusable': wrong agent, no audio, test call) is not a
    verdict on any criterion: int_contacts_unusable takes it, for replacement in the sample.
#}

with evaluations as (

    select * from {{ ref('stg_raw__evaluations') }}

),

production as (

    select * from evaluations
    where calibration_session_id is null
        and result in ('pass', 'fail', 'na')

),

ranked as (

    select
        contact_id,
        criterion_id,
        evaluation_id,
        evaluator_id,
        result,
        points,
        evaluator_comment,
        evaluated_at,
        row_number() over (
            partition by contact_id, criterion_id
            order by evaluated_at desc nulls last, evaluation_id desc
        ) as recency_rank

    from production

)

select
    contact_id,
    criterion_id,
    evaluation_id,
    evaluator_id,
    result as manual_result,
    points as manual_points,
    evaluator_comment,
    evaluated_at

from ranked
where recency_rank = 1
