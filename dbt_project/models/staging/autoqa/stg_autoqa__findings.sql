with source as (

    select * from {{ source('autoqa', 'findings') }}

),

renamed as (

    select
        contact_id,
        criterion_id,
        rule_id,
        rule_type,
        result,
        evidence_quote,
        evidence_speaker,
        cast(evidence_offset_ms as {{ dbt.type_bigint() }}) as evidence_offset_ms,
        evidence_detail,
        regulation_ref,
        scorecard_version,
        run_id as autoqa_run_id,
        cast(evaluated_at as {{ dbt.type_timestamp() }}) as evaluated_at

    from source

)

select * from renamed
