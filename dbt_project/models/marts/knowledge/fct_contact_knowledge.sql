{#
    The knowledge-base articles that best answer each contact's customer (AutoQA's full-text
    search), best first: what a finding points the agent to. Contacts no longer in the warehouse
    are left out.
#}

with matches as (

    select * from {{ ref('stg_autoqa__contact_knowledge') }}

),

articles as (

    select * from {{ ref('stg_autoqa__kb_articles') }}

),

contacts as (

    select * from {{ ref('stg_raw__contacts') }}

)

select
    cast(matches.contact_id as {{ dbt.type_string() }}) as contact_id,
    cast(matches.article_rank as {{ dbt.type_int() }}) as rank,
    cast(matches.article_id as {{ dbt.type_string() }}) as article_id,
    cast(coalesce(articles.article_title, matches.article_title) as {{ dbt.type_string() }}) as title,
    cast(matches.match_score as {{ contactqa.type_double() }}) as score

from matches
inner join contacts
    on matches.contact_id = contacts.contact_id
left join articles
    on matches.article_id = articles.article_id
