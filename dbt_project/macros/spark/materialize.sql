{#-
  The models cast to `varchar` (DuckDB's text type); Spark wants a length for varchar, and its text type is
  `string`. Rather than edit every model, the Spark materializations rewrite a bare `varchar` (no length) to
  `string` in the compiled SQL. The models keep their DuckDB text; the rewrite happens on Spark only.
-#}
{% macro spark_sql(sql) -%}
    {{- return(modules.re.sub('(?i)\\bvarchar\\b(?!\\s*\\()', 'string', sql)) -}}
{%- endmacro %}


{% macro spark__create_table_as(temporary, relation, compiled_code, language='sql') -%}
    {%- if language == 'sql' -%}
        {{ return(dbt.spark__create_table_as(temporary, relation, spark_sql(compiled_code), language)) }}
    {%- else -%}
        {{ return(dbt.spark__create_table_as(temporary, relation, compiled_code, language)) }}
    {%- endif -%}
{%- endmacro %}


{% macro spark__create_view_as(relation, sql) -%}
    {{ return(dbt.spark__create_view_as(relation, spark_sql(sql))) }}
{%- endmacro %}
