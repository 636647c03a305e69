with source as (

    select * from {{ source('raw', 'contacts') }}

),

renamed as (

    select
        contact_id,
        channel,
        source_system,
        agent_id,
        queue,
        topic,
        direction,
        language,
        cast(started_at as {{ dbt.type_timestamp() }}) as started_at,
        cast(answered_at as {{ dbt.type_timestamp() }}) as answered_at,
        cast(ended_at as {{ dbt.type_timestamp() }}) as ended_at,
        cast(duration_s as {{ contactqa.type_double() }}) as duration_seconds,
        cast(talk_s as {{ contactqa.type_double() }}) as talk_seconds,
        cast(hold_s as {{ contactqa.type_double() }}) as hold_seconds,
        disposition,
        cast(csat as {{ dbt.type_int() }}) as csat_score,
        customer_key,
        recording_uri,
        source_file,
        record_locator

    from source

)

select * from renamed
