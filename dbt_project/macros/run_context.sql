{#- The run date (dbt var `run_date`, ISO text) as a date literal. -#}
{% macro run_date() -%}
    cast('{{ var("run_date") }}' as date)
{%- endmacro %}


{#- The run month's first day. -#}
{% macro run_month() -%}
    {{ month_start(run_date()) }}
{%- endmacro %}


{#- Custom schemas are used as given (staging, intermediate, main), not prefixed by the target's. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}


{#- The province's pseudo-county for dispatch and province-level parameters. -#}
{% macro province_county_code() -%}
    '{{ var("province_county_code") }}'
{%- endmacro %}


{#-
  The school year a date falls in (it changes on 1 September, docs/rules.md#w08-应享未享): 2026-10-31 → 2026-2027;
  offset -1 gives the previous one.
-#}
{% macro school_year(date_expr, offset=0) -%}
    (cast(extract(year from {{ date_expr }}) - case when extract(month from {{ date_expr }}) >= 9 then 0 else 1 end + ({{ offset }}) as {{ dbt.type_string() }})
      || '-'
      || cast(extract(year from {{ date_expr }}) - case when extract(month from {{ date_expr }}) >= 9 then 0 else 1 end + ({{ offset }}) + 1 as {{ dbt.type_string() }}))
{%- endmacro %}


{#- Every rule parameter the models read (docs/extracts.md#reference-files, docs/verification.md), pivoted one column each. -#}
{% macro parameter_names() -%}
    {{ return([
        'working_age_min', 'working_age_max',
        'w01_floor', 'w01_income_share', 'w01_red',
        'w03_registration_months', 'w03_lookback_months', 'w03_min_contribution_months', 'w03_gap_months',
        'w04_orange_loss',
        'w05_months', 'w05_tekun_multiplier',
        'w06_grace_months',
        'w08_student_age_min', 'w08_student_age_max', 'w08_self_paid',
        'd01_self_paid', 'd02_loss', 'w11_capital',
        'tekun_income_multiplier', 'tekun_elderly_age', 'tekun_child_age',
        'dibao_asset_months', 'edge_asset_months', 'edge_max_vehicles', 'edge_max_extra_properties',
        'edge_income_multiplier', 'rigid_expense_ratio',
        'temp_medical_threshold', 'temp_months_of_standard',
        'deadline_red_working_days', 'deadline_orange_working_days', 'deadline_yellow_working_days',
        'medical_window_months', 'reraise_growth', 'reraise_months'
    ]) }}
{%- endmacro %}
