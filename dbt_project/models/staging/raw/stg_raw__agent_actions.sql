with source as (

    select * from {{ source('raw', 'agent_actions') }}

),

renamed as (

    select
        contact_id,
        agent_id,
        -- `at` is a reserved word in DuckDB and Spark
        cast({{ adapter.quote('at') }} as {{ dbt.type_timestamp() }}) as action_at,
        action as action_name,
        detail as action_detail,
        source_file,
        record_locator

    from source

)

select * from renamed
