{#
    Every scorecard version the warehouse knows, with the local day it takes effect from
    (NULL = from the beginning) and its critical effect. Versions AutoQA registered come from
    autoqa.scorecard_versions; a version known only from autoqa.scorecard_criteria (an older
    warehouse) counts as effective from the beginning, with the `contact` critical effect.
    version_order ranks them: later effective_from first, then the one registered last.
#}

with criteria_versions as (

    select distinct scorecard_version
    from {{ ref('stg_autoqa__scorecard_criteria') }}

),

registered as (

    select * from {{ ref('stg_autoqa__scorecard_versions') }}

),

known as (

    select
        criteria_versions.scorecard_version,
        registered.effective_from,
        coalesce(registered.critical_effect, 'contact') as critical_effect,
        registered.registered_at

    from criteria_versions
    left join registered
        on criteria_versions.scorecard_version = registered.scorecard_version

)

select
    scorecard_version,
    effective_from,
    critical_effect,
    registered_at,
    row_number() over (
        order by effective_from desc nulls last, registered_at desc nulls last, scorecard_version desc
    ) as version_order,
    row_number() over (
        order by effective_from nulls first, registered_at nulls first, scorecard_version
    ) as version_age_rank

from known
