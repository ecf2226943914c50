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
