{#
    A composite primary key: no two rows share the same values in all `combination_of_columns`.
    Written here rather than pulled from dbt_utils so the project needs no `dbt deps` (no network).
#}
{% test unique_combination_of_columns(model, combination_of_columns) %}

select
    {{ combination_of_columns | join(', ') }},
    count(*) as duplicate_rows
from {{ model }}
group by {{ combination_of_columns | join(', ') }}
having count(*) > 1

{% endtest %}
