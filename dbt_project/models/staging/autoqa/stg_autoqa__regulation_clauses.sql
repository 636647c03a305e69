{#
    The centre's regulation clauses as AutoQA indexed them from config/regulations/*.md
    (contactqa.autoqa.knowledge). AutoQA creates the table the first time it indexes the
    documents; on a warehouse it has not indexed yet this model is empty instead of failing.
#}
{%- set source_relation = source('autoqa', 'regulation_clauses') -%}
{%- set source_exists = (load_relation(source_relation) is not none) if execute else true -%}

with source as (

    {% if source_exists -%}
    select * from {{ source_relation }}
    {%- else -%}
    select
        cast(null as {{ dbt.type_string() }}) as clause_id,
        cast(null as {{ dbt.type_string() }}) as title,
        cast(null as {{ dbt.type_string() }}) as text,
        cast(null as {{ dbt.type_string() }}) as source_file,
        cast(null as {{ dbt.type_timestamp() }}) as indexed_at
    where 1 = 0
    {%- endif %}

),

renamed as (

    select
        clause_id,
        title as clause_title,
        text as clause_text,
        source_file,
        cast(indexed_at as {{ dbt.type_timestamp() }}) as indexed_at

    from source

)

select * from renamed
