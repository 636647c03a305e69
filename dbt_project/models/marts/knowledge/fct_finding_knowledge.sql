{#
    The knowledge-base article each failed finding cites: one row per contact x criterion of the
    contact's CURRENT check (the findings int_findings_deduplicated keeps, as fct_criterion_results
    does) that cites an article. A finding with no relevant article has no row. Contacts no longer
    in the warehouse are left out.
#}

with matches as (

    select * from {{ ref('stg_autoqa__finding_knowledge') }}

),

current_findings as (

    select * from {{ ref('int_findings_deduplicated') }}

),

articles as (

    select * from {{ ref('stg_autoqa__kb_articles') }}

),

contacts as (

    select * from {{ ref('stg_raw__contacts') }}

)

select
    cast(matches.contact_id as {{ dbt.type_string() }}) as contact_id,
    cast(matches.criterion_id as {{ dbt.type_string() }}) as criterion_id,
    cast(matches.article_id as {{ dbt.type_string() }}) as article_id,
    cast(coalesce(articles.article_title, matches.article_title) as {{ dbt.type_string() }}) as title,
    cast(matches.match_score as {{ contactqa.type_double() }}) as score,
    cast(matches.matched_on as {{ dbt.type_string() }}) as matched_on

from matches
inner join current_findings
    on matches.contact_id = current_findings.contact_id
    and matches.criterion_id = current_findings.criterion_id
    and matches.autoqa_run_id = current_findings.autoqa_run_id
    and matches.scorecard_version = current_findings.scorecard_version
inner join contacts
    on matches.contact_id = contacts.contact_id
left join articles
    on matches.article_id = articles.article_id
