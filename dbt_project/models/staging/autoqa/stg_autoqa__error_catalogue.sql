with source as (

    select * from {{ source('autoqa', 'error_catalogue') }}

),

renamed as (

    select
        error_code,
        title_en as error_title_en,
        title_ru as error_title_ru,
        error_group,
        severity

    from source

)

select * from renamed
