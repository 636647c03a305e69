{#
    Incremental: the table grows with every contact ever landed, and a night changes few of them.
    A run rebuilds only the contacts whose inputs changed (int_contact_inputs: a new AutoQA check,
    a new or changed evaluation, a new status) or that are new; the pre-hook first deletes their
    old rows. `contactqa build --full-refresh` rebuilds everything and gives the same rows.
#}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ contactqa.delete_changed_contacts() }}"
) }}

with inputs as (

    select * from {{ ref('int_contact_inputs') }}

),

results as (

    select * from {{ ref('int_criterion_results_resolved') }}
    {% if is_incremental() -%}
    -- the changed contacts' rows were deleted by the pre-hook: rebuild the contacts with no rows left
    where contact_id not in (select contact_id from {{ this }})
    {%- endif %}

),

error_catalogue as (

    select * from {{ ref('stg_autoqa__error_catalogue') }}

),

-- the clause the criterion enforces, as written in config/regulations/*.md (empty until AutoQA indexed them)
regulation_clauses as (

    select * from {{ ref('stg_autoqa__regulation_clauses') }}

)

select
    cast(results.contact_id as {{ dbt.type_string() }}) as contact_id,
    cast(results.criterion_id as {{ dbt.type_string() }}) as criterion_id,
    cast(results.agent_id as {{ dbt.type_string() }}) as agent_id,
    cast(results.channel as {{ dbt.type_string() }}) as channel,
    cast(results.contact_started_at as {{ dbt.type_timestamp() }}) as contact_started_at,
    cast(results.contact_started_at_local as {{ dbt.type_timestamp() }}) as contact_started_at_local,
    cast(results.period as {{ dbt.type_string() }}) as period,
    cast(results.period_week as {{ dbt.type_string() }}) as period_week,
    cast(results.section_id as {{ dbt.type_string() }}) as section_id,
    cast(results.section_title as {{ dbt.type_string() }}) as section_title,
    cast(results.criterion_title_en as {{ dbt.type_string() }}) as criterion_title_en,
    cast(results.criterion_title_ru as {{ dbt.type_string() }}) as criterion_title_ru,
    cast(results.weight as {{ contactqa.type_double() }}) as weight,
    cast(results.is_critical as {{ dbt.type_boolean() }}) as is_critical,
    cast(results.result as {{ dbt.type_string() }}) as result,
    cast(results.result_source as {{ dbt.type_string() }}) as result_source,
    cast(results.auto_result as {{ dbt.type_string() }}) as auto_result,
    cast(results.manual_result as {{ dbt.type_string() }}) as manual_result,
    cast(results.is_agreement as {{ dbt.type_boolean() }}) as is_agreement,
    cast(results.points_possible as {{ contactqa.type_double() }}) as points_possible,
    cast(results.points_earned as {{ contactqa.type_double() }}) as points_earned,
    cast(results.manual_points as {{ contactqa.type_double() }}) as manual_points,
    cast(results.evidence_quote as {{ dbt.type_string() }}) as evidence_quote,
    cast(results.evidence_speaker as {{ dbt.type_string() }}) as evidence_speaker,
    cast(results.evidence_offset_ms as {{ dbt.type_bigint() }}) as evidence_offset_ms,
    cast(results.evidence_detail as {{ dbt.type_string() }}) as evidence_detail,
    cast(results.evaluator_id as {{ dbt.type_string() }}) as evaluator_id,
    cast(results.evaluation_id as {{ dbt.type_string() }}) as evaluation_id,
    cast(results.evaluator_comment as {{ dbt.type_string() }}) as evaluator_comment,
    cast(results.regulation_ref as {{ dbt.type_string() }}) as regulation_ref,
    cast(regulation_clauses.clause_title as {{ dbt.type_string() }}) as regulation_title,
    cast(regulation_clauses.clause_text as {{ dbt.type_string() }}) as regulation_text,
    cast(results.error_code as {{ dbt.type_string() }}) as error_code,
    cast(error_catalogue.error_title_en as {{ dbt.type_string() }}) as error_title_en,
    cast(error_catalogue.error_title_ru as {{ dbt.type_string() }}) as error_title_ru,
    cast(error_catalogue.error_group as {{ dbt.type_string() }}) as error_group,
    cast(error_catalogue.severity as {{ dbt.type_string() }}) as severity,
    cast(results.scorecard_version as {{ dbt.type_string() }}) as scorecard_version,
    cast(results.check_reason as {{ dbt.type_string() }}) as check_reason,
    cast(results.rescore_id as {{ dbt.type_string() }}) as rescore_id,
    cast(inputs.inputs_key as {{ dbt.type_string() }}) as inputs_key

from results
inner join inputs
    on results.contact_id = inputs.contact_id
left join error_catalogue
    on results.error_code = error_catalogue.error_code
left join regulation_clauses
    on results.regulation_ref = regulation_clauses.clause_id
