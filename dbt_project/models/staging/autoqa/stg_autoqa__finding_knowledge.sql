{#
    The knowledge-base article AutoQA cites for each failed finding (contact x criterion) of a
    contact's current check; no row when no article is relevant. Empty until AutoQA has matched
    contacts once.
#}
{%- set source_relation = source('autoqa', 'finding_knowledge') -%}
{%- set source_exists = (load_relation(source_relation) is not none) if execute else true -%}

with source as (

    {% if source_exists -%}
    select * from {{ source_relation }}
    {%- else -%}
    select
        cast(null as {{ dbt.type_string() }}) as contact_id,
        cast(null as {{ dbt.type_string() }}) as criterion_id,
        cast(null as {{ dbt.type_string() }}) as article_id,
        cast(null as {{ dbt.type_string() }}) as title,
        cast(null as {{ contactqa.type_double() }}) as score,
        cast(null as {{ dbt.type_string() }}) as matched_on,
        cast(null as {{ dbt.type_string() }}) as scorecard_version,
        cast(null as {{ dbt.type_string() }}) as run_id,
        cast(null as {{ dbt.type_timestamp() }}) as matched_at
    where 1 = 0
    {%- endif %}

),

renamed as (

    select
        contact_id,
        criterion_id,
        article_id,
        title as article_title,
        cast(score as {{ contactqa.type_double() }}) as match_score,
        matched_on,
        scorecard_version,
        run_id as autoqa_run_id,
        cast(matched_at as {{ dbt.type_timestamp() }}) as matched_at

    from source

)

select * from renamed
