with source as (

    select * from {{ source('raw', 'utterances') }}

),

renamed as (

    select
        contact_id,
        cast(seq as {{ dbt.type_int() }}) as utterance_seq,
        speaker,
        cast(offset_ms as {{ dbt.type_bigint() }}) as offset_ms,
        cast(end_offset_ms as {{ dbt.type_bigint() }}) as end_offset_ms,
        text as utterance_text,
        message_id,
        source_file,
        record_locator

    from source

)

select * from renamed
