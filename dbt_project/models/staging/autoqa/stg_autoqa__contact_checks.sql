with source as (

    select * from {{ source('autoqa', 'contact_checks') }}

),

renamed as (

    select
        contact_id,
        scorecard_version,
        content_hash,
        run_id as autoqa_run_id,
        cast(checked_at as {{ dbt.type_timestamp() }}) as checked_at,
        check_reason,
        rescore_id

    from source

)

select * from renamed
