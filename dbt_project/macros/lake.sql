{#-
  Rows of one lake dataset that count for this run: only deliveries the ledger marks in use
  (docs/internals.md), and none with a cut-off after the run date (a backfill sees the lake as it was).
  `through` replaces the run date as the last cut-off: staff answers (feedback) use the var
  `feedback_through`, set by warehouse/build.py so that answers count for the latest run as soon as they
  arrive (the feedback DAG's refresh closes them), while a rerun of an earlier date sees the lake as it was.
-#}
{% macro lake_rows(relation, through=none) -%}
    select *
    from {{ relation }}
    where _cutoff <= {{ through if through is not none else run_date() }}
      and _sha256 in (
          select sha256 from {{ source('lake', 'deliveries') }} where in_use
      )
{%- endmacro %}


{#-
  The latest version of each key of an increment: a key in a later delivery replaces the earlier
  (cut-off, then re-delivery number, then the later row of one file).
-#}
{% macro latest_per_key(relation, keys, order_by='_cutoff desc, _seq desc, _data_row desc') -%}
    {{ return(adapter.dispatch('latest_per_key', 'safetynet')(relation, keys, order_by)) }}
{%- endmacro %}

{#- Portable form: the rank stays as an extra column (callers select their columns explicitly). -#}
{% macro default__latest_per_key(relation, keys, order_by) -%}
    select * from (
        select *, row_number() over (partition by {{ keys | join(', ') }} order by {{ order_by }}) as _version_rank
        from {{ relation }}
    ) as ranked
    where _version_rank = 1
{%- endmacro %}

{% macro duckdb__latest_per_key(relation, keys, order_by) -%}
    select *
    from {{ relation }}
    qualify row_number() over (partition by {{ keys | join(', ') }} order by {{ order_by }}) = 1
{%- endmacro %}


{#- The cut-off of a snapshot dataset in force at the run date: its latest in-use delivery up to the run date. -#}
{% macro current_cutoff(dataset) -%}
    (
        select max(cutoff_date)
        from {{ source('lake', 'deliveries') }}
        where dataset = '{{ dataset }}' and in_use and cutoff_date <= {{ run_date() }}
    )
{%- endmacro %}
