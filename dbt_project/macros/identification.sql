{#-
  Macros of the identification engine (认定) and the assistance chain (救助链). Portable SQL only: what an
  engine spells differently goes through the project's cross_db macros.
-#}

{#- The categories in the order 一次申请、分类审核认定 reviews them (docs/rules.md#identification-认定). -#}
{% macro identification_categories() -%}
    {{ return(['特困人员', '最低生活保障', '低保边缘家庭', '刚性支出困难家庭']) }}
{%- endmacro %}


{#-
  Every test of every category, in order (docs/rules.md#identification-认定, docs/verification.md): (category, order, code, Chinese name). The wide model
  int_identification_test_results has `<code>_passed` and `<code>_figures` for each; int_identification_tests
  unpivots them into one row per test.
-#}
{% macro identification_tests() -%}
    {{ return([
        ('特困人员', 1, 'tekun_household_size', '家庭人口数'),
        ('特困人员', 2, 'tekun_incapacity', '年龄、残疾与劳动能力'),
        ('特困人员', 3, 'tekun_supporter', '法定义务人'),
        ('特困人员', 4, 'tekun_income', '收入'),
        ('特困人员', 5, 'tekun_assets', '金融资产'),
        ('特困人员', 6, 'tekun_vehicles', '机动车辆'),
        ('特困人员', 7, 'tekun_properties', '非唯一住房'),
        ('特困人员', 8, 'tekun_company', '经营主体'),
        ('最低生活保障', 1, 'dibao_income', '收入'),
        ('最低生活保障', 2, 'dibao_assets', '金融资产'),
        ('最低生活保障', 3, 'dibao_vehicles', '机动车辆'),
        ('最低生活保障', 4, 'dibao_properties', '非唯一住房'),
        ('最低生活保障', 5, 'dibao_company', '经营主体'),
        ('低保边缘家庭', 1, 'edge_income', '收入'),
        ('低保边缘家庭', 2, 'edge_assets', '金融资产'),
        ('低保边缘家庭', 3, 'edge_vehicles', '机动车辆'),
        ('低保边缘家庭', 4, 'edge_properties', '非唯一住房'),
        ('刚性支出困难家庭', 1, 'rigid_income', '收入'),
        ('刚性支出困难家庭', 2, 'rigid_expenses', '刚性支出'),
        ('刚性支出困难家庭', 3, 'rigid_assets', '金融资产'),
        ('刚性支出困难家庭', 4, 'rigid_vehicles', '机动车辆'),
        ('刚性支出困难家庭', 5, 'rigid_properties', '非唯一住房'),
    ]) }}
{%- endmacro %}


{#- The column prefix of a category's met flag in int_identification_test_results (`<prefix>_met`). -#}
{% macro category_prefix(category) -%}
    {{ return({'特困人员': 'tekun', '最低生活保障': 'dibao', '低保边缘家庭': 'edge', '刚性支出困难家庭': 'rigid'}[category]) }}
{%- endmacro %}


{#- A category's rank in that order (1–4); null for a category with no test here. -#}
{% macro category_rank(expr) -%}
    case {{ expr }}
        {%- for category in identification_categories() %}
        when '{{ category }}' then {{ loop.index }}
        {%- endfor %}
    end
{%- endmacro %}


{#- Text as a JSON string literal (quotes included): backslash, double quote and line breaks escaped. -#}
{% macro json_string(expr) -%}
    (chr(34) || replace(replace(replace(replace(
        coalesce(cast({{ expr }} as varchar), ''),
        chr(92), chr(92) || chr(92)),
        chr(34), chr(92) || chr(34)),
        chr(10), chr(92) || 'n'),
        chr(13), chr(92) || 'r') || chr(34))
{%- endmacro %}


{#- One trace entry as a JSON object; `passed` null gives the outcome "—" (a note, not a test). -#}
{% macro trace_entry_json(seq, category, test_name, figures, passed) -%}
    ('{"序号":' || cast({{ seq }} as varchar)
        || ',"类别":' || {{ json_string(category) }}
        || ',"检验":' || {{ json_string(test_name) }}
        || ',"依据":' || {{ json_string(figures) }}
        || ',"结果":' || {{ json_string(trace_outcome(passed)) }}
        || '}')
{%- endmacro %}


{#- The Chinese outcome of a test: 符合 / 不符合, or — for a note. -#}
{% macro trace_outcome(passed) -%}
    case when {{ passed }} then '符合' when not {{ passed }} then '不符合' else '—' end
{%- endmacro %}


{#- The comparison sign actually observed, so that a trace reads "¥9,000.00 < ¥13,740.00". -#}
{% macro observed_sign(left, right) -%}
    case when {{ left }} < {{ right }} then ' < ' when {{ left }} > {{ right }} then ' > ' else ' = ' end
{%- endmacro %}


{#- A count (people, vehicles, properties, ages) as text without decimals. -#}
{% macro fmt_count(expr) -%}
    cast(cast({{ expr }} as bigint) as varchar)
{%- endmacro %}


{#- Calendar days from a to b (b − a). -#}
{% macro days_between(a_expr, b_expr) -%}
    {{ return(adapter.dispatch('days_between', 'safetynet')(a_expr, b_expr)) }}
{%- endmacro %}
{% macro default__days_between(a_expr, b_expr) -%}
    datediff({{ b_expr }}, {{ a_expr }})
{%- endmacro %}
{% macro duckdb__days_between(a_expr, b_expr) -%}
    date_diff('day', {{ a_expr }}, {{ b_expr }})
{%- endmacro %}


{#-
  The school year's first day from its label `2026-2027` (the year changes on 1 September, docs/rules.md#w08-应享未享):
  student aid records carry no date, so the chain dates them on the first day of their school year.
-#}
{% macro school_year_start(label_expr) -%}
    cast(substr({{ label_expr }}, 1, 4) || '-09-01' as date)
{%- endmacro %}


{#-
  A 核对 figure of the trace (docs/verification.md): declared / registered / used, and 核对差异 when the registered
  figure exceeds the declared one. A case without a declaration (an exit review) shows the registered figure only.
-#}
{% macro verified_figure(declared, registered, used, label, unit) -%}
    (case
        when assets_declared
            then '申报{{ label }} ' || {{ fmt_count(declared) }} || ' {{ unit }}，登记 '
                || {{ fmt_count(registered) }} || ' {{ unit }}，采用 ' || {{ fmt_count(used) }} || ' {{ unit }}'
                || case when {{ registered }} > {{ declared }} then '（核对差异：登记多于申报）' else '' end
        else '名册无申报信息；登记{{ label }} ' || {{ fmt_count(registered) }} || ' {{ unit }}，采用 '
            || {{ fmt_count(used) }} || ' {{ unit }}'
    end)
{%- endmacro %}
