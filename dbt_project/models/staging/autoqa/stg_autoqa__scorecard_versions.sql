with source as (

    select * from {{ source('autoqa', 'scorecard_versions') }}

),

renamed as (

    select
        scorecard_version,
        name as scorecard_name,
        cast(effective_from as date) as effective_from,
        coalesce(critical_effect, 'contact') as critical_effect,
        definition_hash,
        cast(registered_at as {{ dbt.type_timestamp() }}) as registered_at

    from source

)

select * from renamed
