{#
    A fingerprint of everything one contact's criterion results are built from: its current AutoQA
    check (a new check for new content, a new version or a rescore), its production evaluations,
    its status and periods, the scorecard versions known (they decide an unchecked contact's version)
    and, for every contact alike, the error catalogue and regulation clauses the results quote.
    fct_criterion_results rebuilds only the contacts whose fingerprint changed.
#}

with contacts as (

    select * from {{ ref('int_contacts_localised') }}

),

checks as (

    select
        contact_id,
        autoqa_run_id,
        scorecard_version,
        row_number() over (partition by contact_id order by checked_at desc, autoqa_run_id desc) as check_rank

    from {{ ref('stg_autoqa__contact_checks') }}

),

evaluations as (

    select
        contact_id,
        {{ contactqa.ordered_listagg(
            dbt.concat(["evaluation_id", "':'", "criterion_id", "':'", "coalesce(result, '')", "':'",
                        "coalesce(" ~ dbt.cast("points", dbt.type_string()) ~ ", '')", "':'",
                        "coalesce(" ~ dbt.cast("evaluated_at", dbt.type_string()) ~ ", '')"]),
            ["evaluation_id", "criterion_id"], "','") }} as evaluations_seen

    from {{ ref('stg_raw__evaluations') }}
    where calibration_session_id is null
    group by contact_id

),

shared as (

    select {{ dbt.hash(dbt.concat([
        "coalesce((select " ~ contactqa.ordered_listagg(dbt.concat(["scorecard_version", "':'", "coalesce(" ~ dbt.cast("effective_from", dbt.type_string()) ~ ", '')"]), ["scorecard_version"], "','") ~ " from " ~ ref('int_scorecard_versions_ranked') ~ "), '')",
        "coalesce((select " ~ contactqa.ordered_listagg(dbt.concat(["error_code", "':'", "coalesce(error_title_en, '')", "':'", "coalesce(error_title_ru, '')", "':'", "coalesce(error_group, '')", "':'", "coalesce(severity, '')"]), ["error_code"], "','") ~ " from " ~ ref('stg_autoqa__error_catalogue') ~ "), '')",
        "coalesce((select " ~ contactqa.ordered_listagg(dbt.hash(dbt.concat(["clause_id", "coalesce(clause_title, '')", "coalesce(clause_text, '')"])), ["clause_id"], "','") ~ " from " ~ ref('stg_autoqa__regulation_clauses') ~ "), '')",
    ])) }} as shared_key

)

select
    contacts.contact_id,
    {{ dbt.hash(dbt.concat([
        "coalesce(checks.autoqa_run_id, '')", "'|'", "coalesce(checks.scorecard_version, '')", "'|'",
        "coalesce(evaluations.evaluations_seen, '')", "'|'", "contacts.contact_status", "'|'",
        "coalesce(contacts.agent_id, '')", "'|'", "contacts.period", "'|'", "contacts.period_week", "'|'",
        "coalesce(contacts.direction, '')", "'|'", "coalesce(contacts.channel, '')", "'|'",
        dbt.cast("contacts.started_at", dbt.type_string()), "'|'", "shared.shared_key"])) }} as inputs_key

from contacts
cross join shared
left join checks
    on contacts.contact_id = checks.contact_id
    and checks.check_rank = 1
left join evaluations
    on contacts.contact_id = evaluations.contact_id
