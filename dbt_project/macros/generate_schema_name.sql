{#
    Build models into the schema named in dbt_project.yml (`staging`, `intermediate`, `marts`)
    rather than dbt's default `<target schema>_<custom>`, so BI tools and the report code read
    `marts.fct_contact_scores` whatever the profile's default schema is.
#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
