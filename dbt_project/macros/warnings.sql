{#-
  The stable warning number: <rule_code><sub_case>-<first 12 hex of sha256(rule|sub_case|subject|episode)>.
  The same rule, subject and episode give the same number in every run.
-#}
{% macro warning_id(rule_code, sub_case, subject, episode) -%}
    ({{ rule_code }} || coalesce({{ sub_case }}, '') || '-' || substr({{ sha256_hex(
        rule_code ~ " || '|' || coalesce(" ~ sub_case ~ ", '') || '|' || " ~ subject ~ " || '|' || " ~ episode
    ) }}, 1, 12))
{%- endmacro %}


{#- The standard columns every rule model returns, so that the register can union them. -#}
{% macro warning_hit_columns() -%}
    {{ return([
        'rule_code', 'sub_case', 'level', 'subject_type', 'subject', 'household_id', 'person_key',
        'households', 'episode', 'county_code', 'township_code', 'evidence', 'trigger_amount'
    ]) }}
{%- endmacro %}


{#- Level from a parameter set: 红/橙/黄 → the deadline parameter's column. -#}
{% macro deadline_days(level_expr, params_alias='p') -%}
    case {{ level_expr }}
        when '红' then {{ params_alias }}.deadline_red_working_days
        when '橙' then {{ params_alias }}.deadline_orange_working_days
        else {{ params_alias }}.deadline_yellow_working_days
    end
{%- endmacro %}


{#-
  The rule models to union this run: all of them but those of the rules in var `rules_not_evaluated` (rule codes,
  e.g. ["W08"]; warehouse/build.py sets it when a rule model could not be built).
-#}
{% macro rules_evaluated(rule_models) -%}
    {%- set skipped = var('rules_not_evaluated', []) | map('upper') | list -%}
    {%- set kept = [] -%}
    {%- for model in rule_models if rule_code_of(model) not in skipped -%}
        {%- do kept.append(model) -%}
    {%- endfor -%}
    {{ return(kept) }}
{%- endmacro %}


{#- The rule code of a rule model: int_warning_w08_missed_entitlement → W08. -#}
{% macro rule_code_of(model_name) -%}
    {{ return(model_name.split('_')[2] | upper) }}
{%- endmacro %}
