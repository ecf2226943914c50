{#-
  Holdings on a date (docs/verification.md): a row of int_vehicle_periods, int_dwelling_periods or
  int_business_periods holds on the date `on_expr` when its period [valid_from, valid_to) contains it.
-#}
{% macro period_holds(alias, on_expr) -%}
    ({{ alias }}.valid_from <= {{ on_expr }} and ({{ alias }}.valid_to is null or {{ on_expr }} < {{ alias }}.valid_to))
{%- endmacro %}


{#- A vehicle row counted on `on_expr`: in force, 正常, a counted type, first registered by then. -#}
{% macro vehicle_counted_on(alias, on_expr) -%}
    ({{ period_holds(alias, on_expr) }} and {{ alias }}.is_countable and {{ alias }}.first_registered_on <= {{ on_expr }})
{%- endmacro %}


{#- A business row that counts on `on_expr`: in force, 存续, established by then. -#}
{% macro business_active_on(alias, on_expr) -%}
    ({{ period_holds(alias, on_expr) }} and {{ alias }}.is_active and {{ alias }}.established_on <= {{ on_expr }})
{%- endmacro %}


{#- The companies of docs/verification.md (W11(a), the identification company test). -#}
{% macro company_types() -%}
    {{ return(['有限责任公司', '股份有限公司', '个人独资企业', '合伙企业']) }}
{%- endmacro %}
