-- Every test of every category for every case, one row per case (docs/rules.md#identification-认定): for each test of
-- identification_tests() whether it passed (`<test>_passed`) and the figures compared, in Chinese
-- (`<test>_figures`), and whether each category is met (`<category>_met`: all its tests passed).
-- All threshold tests are multiplied out, never made on rounded per-capita figures
-- (docs/rules.md#identification-认定): I < S is 家庭年收入 < S·12·n; A ≤ m·S is 家庭金融资产 ≤ m·S·n; I·12 < D is 家庭年收入 < D·n; the
-- expense test is 医疗 + 教育 ≥ r·家庭年收入 (met when the income is 0). A missing figure (no standard, no parameter) fails its
-- test. 特困 is tested for applications only (null otherwise: exit reviews never reach it); 最低生活保障 is tested for every
-- case, because 单人保 asks whether the household fails it even when it was not reviewed. A household leaving
-- 特困/低保 has no financial assets in the roster: that test passes. The vehicle and dwelling tests use the larger of the
-- declared and the registered figure (the 核对, docs/verification.md; an exit review has only the registered one), and
-- their figures show declared / registered / used, marked 核对差异 when the registered figure exceeds the declared one;
-- 特困人员 and 最低生活保障 also fail when a member represents a company.
{%- set missing = "'缺少低保标准、可支配收入或规则参数，无法判断'" %}
{%- set asset_tests = [
    ('tekun', 'dibao_asset_months', 'dibao_asset_line', '0', '0'),
    ('dibao', 'dibao_asset_months', 'dibao_asset_line', '0', '0'),
    ('edge', 'edge_asset_months', 'edge_asset_line', 'edge_max_vehicles', 'edge_max_extra_properties'),
    ('rigid', 'edge_asset_months', 'edge_asset_line', 'edge_max_vehicles', 'edge_max_extra_properties'),
] %}
with cases as (
    select * from {{ ref('int_identification_cases') }}
),

figures as (
    select
        c.*,
        c.review_kind = '申请' as tekun_applies,
        c.dibao_standard * 12 * c.member_count as dibao_income_line,
        c.tekun_income_multiplier * c.dibao_standard * 12 * c.member_count as tekun_income_line,
        c.edge_income_multiplier * c.dibao_standard * 12 * c.member_count as edge_income_line,
        c.disposable_income * c.member_count as rigid_income_line,
        c.medical_expense_12m + c.education_expense_12m as rigid_expense_total,
        c.rigid_expense_ratio * c.annual_income as rigid_expense_line,
        c.dibao_asset_months * c.dibao_standard * c.member_count as dibao_asset_line,
        c.edge_asset_months * c.dibao_standard * c.member_count as edge_asset_line,
        -- disabilities counted as 无劳动能力 for 特困 (多重, 听力, 言语 only through 劳动能力 itself)
        coalesce(
            (c.subject_disability_grade in ('一级', '二级', '三级') and c.subject_disability_type in ('智力', '精神'))
            or (c.subject_disability_grade in ('一级', '二级') and c.subject_disability_type = '肢体')
            or (c.subject_disability_grade = '一级' and c.subject_disability_type = '视力'),
            false
        ) as subject_disability_counts
    from cases as c
),

tested as (
    select
        f.*,

        -- 特困人员 --------------------------------------------------------------------------------------
        case when tekun_applies then coalesce(member_count = 1, false) end as tekun_household_size_passed,
        '家庭人口数 ' || {{ fmt_count('member_count') }} || ' 人（须为 1 人）' as tekun_household_size_figures,

        case when tekun_applies then
            coalesce(subject_age >= tekun_elderly_age, false)
            or coalesce(subject_age < tekun_child_age, false)
            or subject_disability_counts
            or coalesce(subject_labour_capacity = '无劳动能力', false)
        end as tekun_incapacity_passed,
        '申请日期 ' || coalesce({{ fmt_date('applied_on') }}, '?')
            || ' 年满 ' || coalesce({{ fmt_count('subject_age') }}, '?')
            || ' 周岁（年满 ' || coalesce({{ fmt_count('tekun_elderly_age') }}, '?') || ' 周岁或未满 '
            || coalesce({{ fmt_count('tekun_child_age') }}, '?') || ' 周岁符合）；残疾：'
            || case
                when subject_disability_type is null and subject_disability_grade is null then '无'
                else coalesce(subject_disability_type, '') || '残疾' || coalesce(subject_disability_grade, '')
                    || case when subject_disability_counts then '（视为无劳动能力）' else '（不视为无劳动能力）' end
            end
            || '；劳动能力：' || coalesce(subject_labour_capacity, '未填') as tekun_incapacity_figures,

        -- 有 with an empty capacity counts as capable (docs/rules.md#identification-认定)
        case when tekun_applies then
            coalesce(subject_has_supporter = '无', false)
            or coalesce(subject_has_supporter = '有' and subject_supporter_capable = '无', false)
        end as tekun_supporter_passed,
        '有无法定义务人：' || coalesce(subject_has_supporter, '未填')
            || case
                when subject_has_supporter = '有'
                    then '；义务人履行能力：' || coalesce(subject_supporter_capable, '未填（视为有）')
                else ''
            end
            || '（须无法定义务人，或义务人无履行能力）' as tekun_supporter_figures,

        case when tekun_applies then coalesce(annual_income <= tekun_income_line, false) end as tekun_income_passed,
        coalesce(
            '家庭年收入 ' || {{ fmt_yuan('annual_income') }} || {{ observed_sign('annual_income', 'tekun_income_line') }}
                || {{ fmt_number('tekun_income_multiplier') }} || ' × 低保标准 ' || {{ fmt_yuan('dibao_standard') }}
                || ' × 12 × ' || {{ fmt_count('member_count') }} || ' 人 = ' || {{ fmt_yuan('tekun_income_line') }}
                || '（人均月收入须 ≤ ' || {{ fmt_number('tekun_income_multiplier') }} || ' 倍低保标准）',
            {{ missing }}
        ) as tekun_income_figures,

        -- 最低生活保障 ----------------------------------------------------------------------------------
        coalesce(annual_income < dibao_income_line, false) as dibao_income_passed,
        coalesce(
            '家庭年收入 ' || {{ fmt_yuan('annual_income') }} || {{ observed_sign('annual_income', 'dibao_income_line') }}
                || '低保标准 ' || {{ fmt_yuan('dibao_standard') }} || ' × 12 × ' || {{ fmt_count('member_count') }}
                || ' 人 = ' || {{ fmt_yuan('dibao_income_line') }} || '（人均月收入须低于低保标准）',
            {{ missing }}
        ) as dibao_income_figures,

        -- 低保边缘家庭 ----------------------------------------------------------------------------------
        coalesce(annual_income <= edge_income_line, false) as edge_income_passed,
        coalesce(
            '家庭年收入 ' || {{ fmt_yuan('annual_income') }} || {{ observed_sign('annual_income', 'edge_income_line') }}
                || {{ fmt_number('edge_income_multiplier') }} || ' × 低保标准 ' || {{ fmt_yuan('dibao_standard') }}
                || ' × 12 × ' || {{ fmt_count('member_count') }} || ' 人 = ' || {{ fmt_yuan('edge_income_line') }}
                || '（人均月收入须 ≤ ' || {{ fmt_number('edge_income_multiplier') }} || ' 倍低保标准）',
            {{ missing }}
        ) as edge_income_figures,

        -- 刚性支出困难家庭 ------------------------------------------------------------------------------
        coalesce(annual_income < rigid_income_line, false) as rigid_income_passed,
        coalesce(
            '家庭年收入 ' || {{ fmt_yuan('annual_income') }} || {{ observed_sign('annual_income', 'rigid_income_line') }}
                || cast(disposable_income_year as varchar) || ' 年人均可支配收入 ' || {{ fmt_yuan('disposable_income') }}
                || ' × ' || {{ fmt_count('member_count') }} || ' 人 = ' || {{ fmt_yuan('rigid_income_line') }}
                || '（人均年收入须低于上年人均可支配收入）',
            {{ missing }}
        ) as rigid_income_figures,

        coalesce(annual_income = 0 or rigid_expense_total >= rigid_expense_line, false) as rigid_expenses_passed,
        coalesce(
            case when assets_declared then '近12个月自付医疗费用 ' else '近12个月成员个人负担（医疗） ' end
                || {{ fmt_yuan('medical_expense_12m') }} || ' + 近12个月教育支出 '
                || {{ fmt_yuan('education_expense_12m') }} || ' = ' || {{ fmt_yuan('rigid_expense_total') }}
                || {{ observed_sign('rigid_expense_total', 'rigid_expense_line') }}
                || {{ fmt_percent('rigid_expense_ratio') }} || ' × 家庭年收入 ' || {{ fmt_yuan('annual_income') }}
                || ' = ' || {{ fmt_yuan('rigid_expense_line') }} || '（须 ≥）'
                || case when annual_income = 0 then '；家庭年收入为 0，视为符合' else '' end,
            {{ missing }}
        ) as rigid_expenses_figures,

        -- asset tests: 特困/低保 A ≤ dibao_asset_months·S, no vehicle, no extra dwelling; 边缘/刚性 A ≤
        -- edge_asset_months·S, at most edge_max_vehicles / edge_max_extra_properties
        {%- for prefix, months, line, vehicles, properties in asset_tests %}
        {%- set applies = 'tekun_applies' if prefix == 'tekun' else 'true' %}
        case when {{ applies }} then
            not assets_declared or coalesce(financial_assets <= {{ line }}, false)
        end as {{ prefix }}_assets_passed,
        case
            when not assets_declared then '名册无家庭金融资产信息，视为符合'
            else coalesce(
                '家庭金融资产 ' || {{ fmt_yuan('financial_assets') }} || {{ observed_sign('financial_assets', line) }}
                    || {{ fmt_number(months) }} || ' × 低保标准 ' || {{ fmt_yuan('dibao_standard') }} || ' × '
                    || {{ fmt_count('member_count') }} || ' 人 = ' || {{ fmt_yuan(line) }}
                    || '（人均金融资产须 ≤ ' || {{ fmt_number(months) }} || ' 个月低保标准）',
                {{ missing }}
            )
        end as {{ prefix }}_assets_figures,

        case when {{ applies }} then
            coalesce(used_vehicle_count <= {{ vehicles }}, false)
        end as {{ prefix }}_vehicles_passed,
        coalesce(
            {{ verified_figure('vehicle_count', 'registered_vehicle_count', 'used_vehicle_count', '机动车辆', '辆') }}
                || case when {{ vehicles }} = 0 then '（须无机动车辆）'
                    else '（至多 ' || {{ fmt_count(vehicles) }} || ' 辆）' end,
            {{ missing }}
        ) as {{ prefix }}_vehicles_figures,

        case when {{ applies }} then
            coalesce(used_extra_property_count <= {{ properties }}, false)
        end as {{ prefix }}_properties_passed,
        coalesce(
            {{ verified_figure(
                'extra_property_count', 'registered_extra_dwelling_count', 'used_extra_property_count', '非唯一住房', '套'
            ) }}
                || case when {{ properties }} = 0 then '（须无唯一住房以外的房产）'
                    else '（至多 ' || {{ fmt_count(properties) }} || ' 套）' end,
            {{ missing }}
        ) as {{ prefix }}_properties_figures,
        {%- endfor %}

        -- 特困人员 and 最低生活保障: no member represents a company (docs/verification.md)
        {%- for prefix in ['tekun', 'dibao'] %}
        {%- set applies = 'tekun_applies' if prefix == 'tekun' else 'true' %}
        case when {{ applies }} then not represents_company end as {{ prefix }}_company_passed,
        '成员担任法定代表人的公司 ' || {{ fmt_count('registered_company_count') }}
            || ' 家（市场主体登记；特困人员、最低生活保障须无）' as {{ prefix }}_company_figures{{ ',' if not loop.last }}
        {%- endfor %}
    from figures as f
),

final as (
    select
        case_id,
        review_kind,
        {%- for category in identification_categories() %}
        {%- set prefix = category_prefix(category) %}
        {%- set codes = [] %}
        {%- for c, order, code, name in identification_tests() if c == category %}
        {%- do codes.append(code) %}
        {%- endfor %}
        {%- for code in codes %}
        {{ 'and ' if not loop.first }}{{ code }}_passed
        {%- endfor %} as {{ prefix }}_met,
        {%- endfor %}
        {%- for category, order, code, name in identification_tests() %}
        {{ code }}_passed,
        {{ code }}_figures{{ ',' if not loop.last }}
        {%- endfor %}
    from tested
)

select * from final
