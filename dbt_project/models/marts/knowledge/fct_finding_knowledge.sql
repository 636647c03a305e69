{#
    The knowledge-base article each failed finding cites: one row per contact x criterion of the
    contact's CURRENT check (its latest row in autoqa.contact_checks, as in fct_criterion_results)
    that cites an article. A finding with no relevant article has no row. Contacts no longer in the
    warehouse are left out.
#}

with matches as (

    select * from {{ ref('stg_autoqa__finding_knowledge') }}

),

checks as (

    select * from {{ ref('stg_autoqa__contact_checks') }}

),

current_checks as (

    select
        contact_id,
        scorecard_version,
        autoqa_run_id,
        row_number() over (
            partition by contact_id
            order by checked_at desc, autoqa_run_id desc
        ) as check_rank

    from checks

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
inner join current_checks
    on matches.contact_id = current_checks.contact_id
    and matches.autoqa_run_id = current_checks.autoqa_run_id
    and matches.scorecard_version = current_checks.scorecard_version
    and current_checks.check_rank = 1
inner join contacts
    on matches.contact_id = contacts.contact_id
left join articles
    on matches.article_id = articles.article_id
