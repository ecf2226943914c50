{#-
  The history-sized models (every snapshot, every payment) are dbt incremental models on DuckDB: a monthly build
  rebuilds only the cut-offs delivered since the previous build, `delete+insert` by cut-off or payment. Which build
  may be incremental is decided outside dbt (warehouse/refresh_policy.py, docs/incremental.md): anything that
  changes what an earlier cut-off holds (a re-delivery, a released hold, a run date going back, a reference file
  or the models' code) makes the whole build a full refresh. Spark builds them as plain tables.
-#}
{% macro history_materialization() -%}
    {{ return('incremental' if target.type == 'duckdb' else 'table') }}
{%- endmacro %}


{#-
  The run date of the build the incremental tables hold (var `built_through`, set by warehouse/build.py for an
  incremental build): every delivery with a cut-off up to it is already in them, unchanged since. Commands that only
  compile (docs generate) get the earliest date: their SQL is shown, never run.
-#}
{% macro built_through() -%}
    {%- set value = var('built_through', none) -%}
    {%- if value is none and flags.WHICH not in ('build', 'run') -%}
        {%- set value = '0001-01-01' -%}
    {%- endif -%}
    {%- if value is none -%}
        {{ exceptions.raise_compiler_error(
            "incremental build of " ~ this ~ " without the var built_through: build through warehouse/build.py, "
            ~ "or pass --full-refresh") }}
    {%- endif -%}
    cast('{{ value }}' as date)
{%- endmacro %}


{#-
  The latest cut-off an incremental snapshot table holds, as a date literal read when the model compiles (a literal
  lets DuckDB skip the lake files of older cut-offs by their statistics). That snapshot is rebuilt along with the new
  ones: it was the one in force (`is_current_snapshot`) and may no longer be.
-#}
{% macro latest_built_cutoff(column='snapshot_cutoff') -%}
    {%- set latest = none -%}
    {%- if execute -%}
        {%- set latest = run_query('select max(' ~ column ~ ') from ' ~ this).columns[0].values()[0] -%}
    {%- endif -%}
    cast('{{ latest if latest is not none else "0001-01-01" }}' as date)
{%- endmacro %}


{#-
  For a table of several sources' snapshots (household_source, snapshot_cutoff): the earliest of the sources'
  latest cut-offs, from which a monthly build rebuilds every source's snapshots.
-#}
{% macro earliest_latest_cutoff() -%}
    {%- set earliest = none -%}
    {%- if execute -%}
        {%- set earliest = run_query(
            'select min(latest) from (select max(snapshot_cutoff) as latest from ' ~ this
            ~ ' group by household_source) as by_source'
        ).columns[0].values()[0] -%}
    {%- endif -%}
    cast('{{ earliest if earliest is not none else "0001-01-01" }}' as date)
{%- endmacro %}
