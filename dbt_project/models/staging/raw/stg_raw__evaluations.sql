with source as (

    select * from {{ source('raw', 'evaluations') }}

),

renamed as (

    select
        evaluation_id,
        contact_id,
        evaluator_id,
        criterion_id,
        result,
        cast(points as {{ contactqa.type_double() }}) as points,
        comment as evaluator_comment,
        cast(evaluated_at as {{ dbt.type_timestamp() }}) as evaluated_at,
        -- spreadsheets land an empty cell as '', which must not turn a production
        -- evaluation into a calibration one
        nullif(trim(calibration_session_id), '') as calibration_session_id,
        coalesce(is_reference, false) as is_reference,
        source_file,
        record_locator

    from source

)

select * from renamed
