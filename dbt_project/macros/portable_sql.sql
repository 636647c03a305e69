{#
    Small portable helpers the models use where dbt's cross-database macros stop.
    Each dispatches, so an adapter-specific version can be added without touching models.
#}

{# A month key 'YYYY-MM' from a timestamp (the reporting period). #}
{% macro format_period(timestamp_expr) -%}
    {{ return(adapter.dispatch('format_period', 'contactqa')(timestamp_expr)) }}
{%- endmacro %}

{% macro default__format_period(timestamp_expr) -%}
    to_char({{ timestamp_expr }}, 'YYYY-MM')
{%- endmacro %}

{% macro duckdb__format_period(timestamp_expr) -%}
    strftime({{ timestamp_expr }}, '%Y-%m')
{%- endmacro %}

{% macro spark__format_period(timestamp_expr) -%}
    date_format({{ timestamp_expr }}, 'yyyy-MM')
{%- endmacro %}


{# An 8-byte float. dbt.type_float() is a 4-byte REAL on DuckDB, too coarse for scores. #}
{% macro type_double() -%}
    {{ return(adapter.dispatch('type_double', 'contactqa')()) }}
{%- endmacro %}

{% macro default__type_double() -%}
    double precision
{%- endmacro %}

{% macro duckdb__type_double() -%}
    double
{%- endmacro %}

{% macro spark__type_double() -%}
    double
{%- endmacro %}


{#
    The reproducible sampling key: an md5 hex digest (dbt.hash) of the contact id salted with
    the seed. Ordering by it is a deterministic shuffle that every engine computes the same way.
#}
{% macro sample_hash(contact_id_expr, seed) -%}
    {{ dbt.hash(dbt.concat([contact_id_expr, "'|'", dbt.string_literal(dbt.escape_single_quotes(seed | string))])) }}
{%- endmacro %}


{# A weight as people write it: 10 rather than 10.0, 2.5 stays 2.5. #}
{% macro format_number(numeric_expr) -%}
    case
        when {{ numeric_expr }} = floor({{ numeric_expr }})
            then cast(cast({{ numeric_expr }} as {{ dbt.type_bigint() }}) as {{ dbt.type_string() }})
        else cast({{ numeric_expr }} as {{ dbt.type_string() }})
    end
{%- endmacro %}


{#
    Two-sided 95% Student t critical value for a mean over n observations (df = n - 1).
    Exact table values up to n = 29; from n = 30 the normal 1.96 (the rule the QA team uses).
    NULL for n < 2: one contact has no spread to estimate.
#}
{% macro t_critical_95(n_expr) -%}
    {%- set t_by_df = [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
        2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
        2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048
    ] -%}
    case
        when {{ n_expr }} is null or {{ n_expr }} < 2 then null
        {%- for t in t_by_df %}
        when {{ n_expr }} = {{ loop.index + 1 }} then {{ t }}
        {%- endfor %}
        else 1.96
    end
{%- endmacro %}


{#
    Round to `digits` decimals and return an 8-byte float. PostgreSQL only rounds numerics
    to a number of digits, so go through numeric on every engine.
#}
{% macro round_to(numeric_expr, digits) -%}
    cast(round(cast({{ numeric_expr }} as {{ dbt.type_numeric() }}), {{ digits }}) as {{ contactqa.type_double() }})
{%- endmacro %}


{#
    string_agg of `measure` (NULLs dropped) in the order of `order_by_columns`.
    dbt.listagg ignores the ordering on Spark, so Spark sorts (key, value) structs itself.
#}
{% macro ordered_listagg(measure, order_by_columns, delimiter_text) -%}
    {{ return(adapter.dispatch('ordered_listagg', 'contactqa')(measure, order_by_columns, delimiter_text)) }}
{%- endmacro %}

{% macro default__ordered_listagg(measure, order_by_columns, delimiter_text) -%}
    {{ dbt.listagg(measure, delimiter_text, "order by " ~ (order_by_columns | join(', '))) }}
{%- endmacro %}

{% macro spark__ordered_listagg(measure, order_by_columns, delimiter_text) -%}
    array_join(
        transform(
            array_sort(collect_list(
                case when ({{ measure }}) is not null then
                    named_struct(
                        {%- for column in order_by_columns %}
                        'k{{ loop.index }}', {{ column }},
                        {%- endfor %}
                        'value', {{ measure }}
                    )
                end
            )),
            item -> item.value
        ),
        {{ delimiter_text }}
    )
{%- endmacro %}


{# a mod b for non-negative integers. #}
{% macro modulo(a, b) -%}
    {{ return(adapter.dispatch('modulo', 'contactqa')(a, b)) }}
{%- endmacro %}

{% macro default__modulo(a, b) -%}
    mod({{ a }}, {{ b }})
{%- endmacro %}

{% macro spark__modulo(a, b) -%}
    pmod({{ a }}, {{ b }})
{%- endmacro %}


{#
    Incremental marts keyed by contact: before new rows are appended, delete every built row of a
    contact whose inputs changed (int_contact_inputs) or that no longer exists, so a contact that
    now has fewer rows (or none) leaves nothing stale behind.
#}
{% macro delete_changed_contacts() -%}
    {%- if is_incremental() -%}
    delete from {{ this }}
    where contact_id in (
        select built.contact_id
        from (select distinct contact_id, inputs_key from {{ this }}) as built
        left join {{ ref('int_contact_inputs') }} as inputs
            on built.contact_id = inputs.contact_id
        where inputs.inputs_key is null or inputs.inputs_key <> built.inputs_key
    )
    {%- else -%}
    select 1
    {%- endif -%}
{%- endmacro %}
