-- Every failed criterion should map to an error in the catalogue, or it is missing from
-- fct_error_summary. A scorecard gap, not bad data: warn the QA team, do not stop the build.
{{ config(severity='warn') }}

select
    contact_id,
    criterion_id,
    error_code
from {{ ref('fct_criterion_results') }}
where result = 'fail'
    and (error_code is null or error_title_en is null)
