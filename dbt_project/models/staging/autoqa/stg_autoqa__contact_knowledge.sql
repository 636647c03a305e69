{#
    The knowledge-base articles AutoQA found for each contact by full-text search (BM25) over
    what the customer asked, best first. Empty until AutoQA has matched contacts once.
#}
{%- set source_relation = source('autoqa', 'contact_knowledge') -%}
{%- set source_exists = (load_relation(source_relation) is not none) if execute else true -%}

with source as (

    {% if source_exists -%}
    select * from {{ source_relation }}
    {%- else -%}
    select
        cast(null as {{ dbt.type_string() }}) as contact_id,
        cast(null as {{ dbt.type_int() }}) as rank,
        cast(null as {{ dbt.type_string() }}) as article_id,
        cast(null as {{ dbt.type_string() }}) as title,
        cast(null as {{ contactqa.type_double() }}) as score,
        cast(null as {{ dbt.type_string() }}) as scorecard_version,
        cast(null as {{ dbt.type_timestamp() }}) as matched_at
    where 1 = 0
    {%- endif %}

),

renamed as (

    select
        contact_id,
        cast(rank as {{ dbt.type_int() }}) as article_rank,
        article_id,
        title as article_title,
        cast(score as {{ contactqa.type_double() }}) as match_score,
        scorecard_version,
        cast(matched_at as {{ dbt.type_timestamp() }}) as matched_at

    from source

)

select * from renamed
