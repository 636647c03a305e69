{#
    The knowledge-base articles as AutoQA indexed them from config/kb/*.md, one per file
    (contactqa.autoqa.knowledge). Empty until AutoQA has indexed the documents once.
#}
{%- set source_relation = source('autoqa', 'kb_articles') -%}
{%- set source_exists = (load_relation(source_relation) is not none) if execute else true -%}

with source as (

    {% if source_exists -%}
    select * from {{ source_relation }}
    {%- else -%}
    select
        cast(null as {{ dbt.type_string() }}) as article_id,
        cast(null as {{ dbt.type_string() }}) as title,
        cast(null as {{ dbt.type_string() }}) as text,
        cast(null as {{ dbt.type_string() }}) as source_file,
        cast(null as {{ dbt.type_timestamp() }}) as indexed_at
    where 1 = 0
    {%- endif %}

),

renamed as (

    select
        article_id,
        title as article_title,
        text as article_text,
        source_file,
        cast(indexed_at as {{ dbt.type_timestamp() }}) as indexed_at

    from source

)

select * from renamed
