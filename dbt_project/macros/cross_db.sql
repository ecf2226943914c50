{#- SQL that differs between engines, behind adapter.dispatch (DuckDB and Spark: docs/spark.md). -#}

{% macro add_months(date_expr, months_expr) -%}
    {{ return(adapter.dispatch('add_months', 'safetynet')(date_expr, months_expr)) }}
{%- endmacro %}
{% macro default__add_months(date_expr, months_expr) -%}
    add_months({{ date_expr }}, cast({{ months_expr }} as int))
{%- endmacro %}
{#- DuckDB clamps to the month's last day: 2026-10-31 minus 1 month is 2026-09-30. -#}
{% macro duckdb__add_months(date_expr, months_expr) -%}
    cast({{ date_expr }} + to_months(cast({{ months_expr }} as integer)) as date)
{%- endmacro %}


{% macro add_days(date_expr, days_expr) -%}
    {{ return(adapter.dispatch('add_days', 'safetynet')(date_expr, days_expr)) }}
{%- endmacro %}
{% macro default__add_days(date_expr, days_expr) -%}
    date_add({{ date_expr }}, cast({{ days_expr }} as int))
{%- endmacro %}
{% macro duckdb__add_days(date_expr, days_expr) -%}
    cast({{ date_expr }} + to_days(cast({{ days_expr }} as integer)) as date)
{%- endmacro %}


{% macro month_start(date_expr) -%}
    {{ return(adapter.dispatch('month_start', 'safetynet')(date_expr)) }}
{%- endmacro %}
{% macro default__month_start(date_expr) -%}
    cast(date_trunc('month', {{ date_expr }}) as date)
{%- endmacro %}


{#- Months between two month starts (b − a), e.g. 2026-10-01 vs 2026-08-01 → 2. -#}
{% macro months_between(a_expr, b_expr) -%}
    ((extract(year from {{ b_expr }}) - extract(year from {{ a_expr }})) * 12
      + extract(month from {{ b_expr }}) - extract(month from {{ a_expr }}))
{%- endmacro %}


{#- Completed years on a date; a 29 February birthday counts from 1 March in other years. -#}
{% macro age_on(birth_expr, on_expr) -%}
    (extract(year from {{ on_expr }}) - extract(year from {{ birth_expr }})
      - case
            when extract(month from {{ on_expr }}) * 100 + extract(day from {{ on_expr }})
               < extract(month from {{ birth_expr }}) * 100 + extract(day from {{ birth_expr }})
            then 1 else 0
        end)
{%- endmacro %}


{% macro sha256_hex(expr) -%}
    {{ return(adapter.dispatch('sha256_hex', 'safetynet')(expr)) }}
{%- endmacro %}
{% macro default__sha256_hex(expr) -%}
    sha2({{ expr }}, 256)
{%- endmacro %}
{% macro duckdb__sha256_hex(expr) -%}
    sha256({{ expr }})
{%- endmacro %}


{#- ¥ with thousands separators and two decimals: ¥23,456.00 -#}
{% macro fmt_yuan(expr) -%}
    {{ return(adapter.dispatch('fmt_yuan', 'safetynet')(expr)) }}
{%- endmacro %}
{% macro default__fmt_yuan(expr) -%}
    concat('¥', format_number(cast({{ expr }} as decimal(18, 2)), 2))
{%- endmacro %}
{% macro duckdb__fmt_yuan(expr) -%}
    ('¥' || format('{:,.2f}', cast({{ expr }} as double)))
{%- endmacro %}


{#- A plain number without trailing zeros (a share 0.5 → 50%, a multiplier 1.3). -#}
{% macro fmt_number(expr) -%}
    {{ return(adapter.dispatch('fmt_number', 'safetynet')(expr)) }}
{%- endmacro %}
{% macro default__fmt_number(expr) -%}
    cast(cast({{ expr }} as double) as string)
{%- endmacro %}
{% macro duckdb__fmt_number(expr) -%}
    format('{:g}', cast({{ expr }} as double))
{%- endmacro %}


{% macro fmt_date(expr) -%}
    {{ return(adapter.dispatch('fmt_date', 'safetynet')(expr)) }}
{%- endmacro %}
{% macro default__fmt_date(expr) -%}
    date_format({{ expr }}, 'yyyy-MM-dd')
{%- endmacro %}
{% macro duckdb__fmt_date(expr) -%}
    strftime({{ expr }}, '%Y-%m-%d')
{%- endmacro %}


{% macro fmt_month(expr) -%}
    {{ return(adapter.dispatch('fmt_month', 'safetynet')(expr)) }}
{%- endmacro %}
{% macro default__fmt_month(expr) -%}
    date_format({{ expr }}, 'yyyy-MM')
{%- endmacro %}
{% macro duckdb__fmt_month(expr) -%}
    strftime({{ expr }}, '%Y-%m')
{%- endmacro %}


{#- Distinct values joined in sorted order: `a|b|c`. -#}
{% macro string_agg_sorted(expr, sep='|') -%}
    {{ return(adapter.dispatch('string_agg_sorted', 'safetynet')(expr, sep)) }}
{%- endmacro %}
{% macro default__string_agg_sorted(expr, sep) -%}
    array_join(array_sort(collect_set({{ expr }})), '{{ sep }}')
{%- endmacro %}
{% macro duckdb__string_agg_sorted(expr, sep) -%}
    string_agg(distinct {{ expr }}, '{{ sep }}' order by {{ expr }})
{%- endmacro %}


{#- A share as a percentage without trailing zeros: 0.5 → 50%, 0.125 → 12.5% -#}
{% macro fmt_percent(expr) -%}
    {{ return(adapter.dispatch('fmt_percent', 'safetynet')(expr)) }}
{%- endmacro %}
{% macro default__fmt_percent(expr) -%}
    concat(cast(cast({{ expr }} * 100 as double) as string), '%')
{%- endmacro %}
{% macro duckdb__fmt_percent(expr) -%}
    (format('{:g}', cast({{ expr }} * 100 as double)) || '%')
{%- endmacro %}


{#- Values joined in the order of another expression (not deduplicated). -#}
{% macro string_agg_ordered(expr, sep, order_expr) -%}
    {{ return(adapter.dispatch('string_agg_ordered', 'safetynet')(expr, sep, order_expr)) }}
{%- endmacro %}
{% macro default__string_agg_ordered(expr, sep, order_expr) -%}
    array_join(transform(array_sort(collect_list(struct({{ order_expr }} as k, {{ expr }} as v))), x -> x.v), '{{ sep }}')
{%- endmacro %}
{% macro duckdb__string_agg_ordered(expr, sep, order_expr) -%}
    string_agg({{ expr }}, '{{ sep }}' order by {{ order_expr }})
{%- endmacro %}
