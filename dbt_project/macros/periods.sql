{#
    Local periods. Timestamps are stored in UTC; a contact belongs to the ISO week and month of
    its start in the centre's timezone (var `timezone`). contactqa.periods computes the same keys
    in Python; the tests check they agree.
#}

{# A UTC timestamp as the centre's local wall-clock time. #}
{% macro to_local(timestamp_expr) -%}
    {{ return(adapter.dispatch('to_local', 'contactqa')(timestamp_expr, var('timezone'))) }}
{%- endmacro %}

{% macro default__to_local(timestamp_expr, tz) -%}
    (({{ timestamp_expr }} at time zone 'UTC') at time zone {{ dbt.string_literal(tz) }})
{%- endmacro %}

{% macro duckdb__to_local(timestamp_expr, tz) -%}
    cast(({{ timestamp_expr }} at time zone 'UTC') at time zone {{ dbt.string_literal(tz) }} as timestamp)
{%- endmacro %}

{% macro spark__to_local(timestamp_expr, tz) -%}
    from_utc_timestamp({{ timestamp_expr }}, {{ dbt.string_literal(tz) }})
{%- endmacro %}


{# ISO week key 'YYYY-Www' (ISO year: 2026-12-31 may be 2027-W53... as the calendar says). #}
{% macro format_week(timestamp_expr) -%}
    {{ return(adapter.dispatch('format_week', 'contactqa')(timestamp_expr)) }}
{%- endmacro %}

{% macro default__format_week(timestamp_expr) -%}
    to_char({{ timestamp_expr }}, 'IYYY-"W"IW')
{%- endmacro %}

{% macro duckdb__format_week(timestamp_expr) -%}
    strftime({{ timestamp_expr }}, '%G-W%V')
{%- endmacro %}

{% macro spark__format_week(timestamp_expr) -%}
    concat(cast(extract(yearofweek from {{ timestamp_expr }}) as string), '-W', lpad(cast(weekofyear({{ timestamp_expr }}) as string), 2, '0'))
{%- endmacro %}


{# The date the run acts as of: var as_of_date ('YYYY-MM-DD'), else today. #}
{% macro as_of_date() -%}
    {%- if var('as_of_date') -%}
        cast({{ dbt.string_literal(var('as_of_date')) }} as date)
    {%- else -%}
        current_date
    {%- endif -%}
{%- endmacro %}
