{#-
  Spark SQL forms of the dispatched macros (macros/cross_db.sql, lake.sql, identification.sql); each returns what
  the duckdb__ form returns (docs/spark.md). Aggregated text is null when there is nothing to join, as DuckDB's
  string_agg is (array_join of an empty array would give '').
-#}

{% macro spark__add_months(date_expr, months_expr) -%}
    add_months({{ date_expr }}, cast({{ months_expr }} as int))
{%- endmacro %}


{% macro spark__add_days(date_expr, days_expr) -%}
    date_add({{ date_expr }}, cast({{ days_expr }} as int))
{%- endmacro %}


{% macro spark__month_start(date_expr) -%}
    trunc({{ date_expr }}, 'MM')
{%- endmacro %}


{% macro spark__days_between(a_expr, b_expr) -%}
    datediff({{ b_expr }}, {{ a_expr }})
{%- endmacro %}


{% macro spark__sha256_hex(expr) -%}
    sha2(cast({{ expr }} as string), 256)
{%- endmacro %}


{#- format_number rounds the double half-even on its exact value, as DuckDB's format('{:,.2f}') does. -#}
{% macro spark__fmt_yuan(expr) -%}
    concat('¥', format_number(cast({{ expr }} as double), 2))
{%- endmacro %}


{#- DuckDB's {:g}: six significant digits, no trailing zeros (1.3, 0.5, 50); our figures stay below 10^6. -#}
{% macro spark_trim_number(expr) -%}
    regexp_replace(regexp_replace(
        cast(cast(round(cast({{ expr }} as double), 6) as decimal(38, 6)) as string), '0+$', ''), '[.]$', '')
{%- endmacro %}

{% macro spark__fmt_number(expr) -%}
    {{ spark_trim_number(expr) }}
{%- endmacro %}


{% macro spark__fmt_percent(expr) -%}
    concat({{ spark_trim_number(expr ~ ' * 100') }}, '%')
{%- endmacro %}


{% macro spark__fmt_date(expr) -%}
    date_format({{ expr }}, 'yyyy-MM-dd')
{%- endmacro %}


{% macro spark__fmt_month(expr) -%}
    date_format({{ expr }}, 'yyyy-MM')
{%- endmacro %}


{#- Distinct values in byte order (DuckDB's default collation), null when none. -#}
{% macro spark__string_agg_sorted(expr, sep) -%}
    case when count({{ expr }}) > 0 then array_join(array_sort(collect_set({{ expr }})), '{{ sep }}') end
{%- endmacro %}


{% macro spark__string_agg_ordered(expr, sep, order_expr) -%}
    case when count({{ expr }}) > 0 then
        array_join(transform(array_sort(collect_list(struct({{ order_expr }} as k, {{ expr }} as v))), x -> x.v), '{{ sep }}')
    end
{%- endmacro %}


{#- Spark has no QUALIFY: the portable form (the rank stays as an extra column `_version_rank`). -#}
{% macro spark__latest_per_key(relation, keys, order_by) -%}
    {{ default__latest_per_key(relation, keys, order_by) }}
{%- endmacro %}
