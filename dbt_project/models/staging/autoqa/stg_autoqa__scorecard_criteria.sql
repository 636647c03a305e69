with source as (

    select * from {{ source('autoqa', 'scorecard_criteria') }}

),

renamed as (

    select
        scorecard_version,
        section_id,
        section_title,
        criterion_id,
        title_en as criterion_title_en,
        title_ru as criterion_title_ru,
        cast(weight as {{ contactqa.type_double() }}) as weight,
        coalesce(is_critical, false) as is_critical,
        channels,
        coalesce(is_manual, false) as is_manual,
        rule_type,
        error_code,
        regulation_ref

    from source

)

select * from renamed
