with source as (

    select * from {{ source('raw', 'agents') }}

),

renamed as (

    select
        agent_id,
        full_name,
        email,
        team,
        supervisor_email,
        locale,
        extension,
        cast(active_from as date) as active_from,
        cast(active_to as date) as active_to,
        source_file,
        record_locator

    from source

)

select * from renamed
