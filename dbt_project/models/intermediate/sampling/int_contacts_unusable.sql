{#
    Contacts an evaluator marked unusable for monitoring (result 'unusable'; the reason in the
    comment: wrong agent, no audio, test call). The sample replaces them with the next contact of
    the same stratum. The latest such mark per contact counts.
#}

with evaluations as (

    select * from {{ ref('stg_raw__evaluations') }}

),

marked as (

    select
        contact_id,
        evaluator_id,
        evaluator_comment,
        evaluated_at,
        row_number() over (
            partition by contact_id
            order by evaluated_at desc nulls last, evaluation_id desc
        ) as recency_rank

    from evaluations
    where result = 'unusable'
        and calibration_session_id is null

)

select
    contact_id,
    evaluator_id as marked_by,
    coalesce(nullif(trim(evaluator_comment), ''), 'unusable') as unusable_reason,
    evaluated_at as marked_at

from marked
where recency_rank = 1
