-- The trace of every identification decision, one row per entry in the order staff read it
-- (docs/rules.md#identification-认定: "every decision keeps its trace"): the tests of each category reviewed, in review
-- order, up to the category given (all of them when none is met), each with its figures and outcome; then 单人保 when the
-- result is 低保边缘家庭, and 临时救助 when it is 特困人员 or 最低生活保障. A case with nothing to review gets one note saying why; an exit
-- review starts with the roster its figures come from (docs/rules.md#identification-认定: the household as it is now).
with cases as (
    select * from {{ ref('int_identification_cases') }}
),

plan as (
    select * from {{ ref('int_identification_review_plan') }}
),

tests as (
    select * from {{ ref('int_identification_tests') }}
),

decisions as (
    select * from {{ ref('int_identification_decisions') }}
),

cover as (
    select * from {{ ref('int_identification_individual_cover') }}
),

scope_notes as (
    select
        c.case_id,
        1 as section,
        0 as section_order,
        0 as test_order,
        coalesce(c.requested_category, '—') as category,
        '审核范围' as test_name,
        case
            when c.review_kind = '退出转入申请'
                then '退出转入申请只审核低保边缘家庭、刚性支出困难家庭；未同意分类审核，申请类别'
                    || coalesce(c.requested_category, '（空）') || '不在其中，结果为无，交由工作人员审核'
            else '未同意分类审核，只审核申请类别；申请类别' || coalesce(c.requested_category, '（空）')
                || '没有认定条件，结果为无，交由工作人员审核'
        end as figures,
        cast(null as boolean) as passed
    from cases as c
    inner join decisions as d on d.case_id = c.case_id
    where d.categories_reviewed = 0
),

exit_notes as (
    select
        case_id,
        1 as section,
        0 as section_order,
        0 as test_order,
        previous_category as category,
        '复核依据' as test_name,
        exit_reason || '；按 ' || {{ fmt_date('figures_cutoff') }} || ' 名册'
            || case
                when figures_cutoff = to_cutoff then '（该户现状）'
                else '（该户最后在册时，下一期名册中已无该户）'
            end
            || '的家庭年收入 ' || {{ fmt_yuan('annual_income') }} || '、家庭人口数 ' || {{ fmt_count('member_count') }}
            || ' 人、' || urban_rural || '、区县 ' || county_code || ' 复核' as figures,
        cast(null as boolean) as passed
    from cases
    where review_kind = '退出复核'
),

reviewed_tests as (
    select
        t.case_id,
        2 as section,
        p.review_order as section_order,
        t.test_order,
        t.category,
        t.test_name,
        t.figures,
        t.passed
    from tests as t
    inner join plan as p
        on p.case_id = t.case_id
       and p.category = t.category
    inner join decisions as d on d.case_id = t.case_id
    where d.result_review_order is null or p.review_order <= d.result_review_order
),

dibao_failures as (
    select
        case_id,
        {{ string_agg_ordered("test_name || '：' || figures", '；', 'test_order') }} as failures
    from tests
    where category = '最低生活保障' and not passed
    group by case_id
),

cover_people as (
    select
        case_id,
        {{ string_agg_ordered("coalesce(relation, '成员') || '（' || reason || '）'", '、', 'person_key') }} as people
    from cover
    group by case_id
),

cover_notes as (
    select
        d.case_id,
        3 as section,
        0 as section_order,
        0 as test_order,
        '单人保' as category,
        '单人保' as test_name,
        case
            when d.dibao_met then '家庭符合最低生活保障条件，不适用单人保'
            when d.individual_cover_candidates > 0
                then '家庭不符合最低生活保障条件（' || coalesce(f.failures, '') || '）；'
                    || cast(d.individual_cover_candidates as varchar) || ' 名成员单独纳入最低生活保障：' || p.people
            else '家庭不符合最低生活保障条件（' || coalesce(f.failures, '') || '）；'
                || '无一级/二级残疾、三级智力/精神残疾或重病成员'
        end as figures,
        case when d.dibao_met then null else d.individual_cover_candidates > 0 end as passed
    from decisions as d
    left join dibao_failures as f on f.case_id = d.case_id
    left join cover_people as p on p.case_id = d.case_id
    where d.result_category = '低保边缘家庭'
),

temp_notes as (
    select
        d.case_id,
        4 as section,
        0 as section_order,
        0 as test_order,
        '临时救助' as category,
        '审核期间临时救助' as test_name,
        '近12个月自付医疗费用 ' || {{ fmt_yuan('c.medical_expense_12m') }}
            || {{ observed_sign('c.medical_expense_12m', 'c.temp_medical_threshold') }}
            || {{ fmt_yuan('c.temp_medical_threshold') }} || '（达到即符合）；'
            || case
                when d.has_w02_w04 then '家庭成员所在家庭本次运行有 ' || d.warning_rules || ' 预警（' || d.warning_ids || '）'
                else '家庭成员所在家庭本次运行无 W02、W04 预警'
            end
            || case
                when d.temp_assistance_recommended
                    then '；建议审核期间发放临时救助 ' || {{ fmt_number('c.temp_months_of_standard') }} || ' × 低保标准 '
                        || {{ fmt_yuan('c.dibao_standard') }} || ' × ' || {{ fmt_count('c.member_count') }} || ' 人 = '
                        || {{ fmt_yuan('d.temp_assistance_amount') }}
                else '；不建议发放'
            end as figures,
        d.temp_assistance_recommended as passed
    from decisions as d
    inner join cases as c on c.case_id = d.case_id
    where d.result_category in ('特困人员', '最低生活保障')
),

entries as (
    select * from scope_notes
    union all
    select * from exit_notes
    union all
    select * from reviewed_tests
    union all
    select * from cover_notes
    union all
    select * from temp_notes
),

final as (
    select
        e.case_id,
        c.application_id,
        c.household_id,
        c.review_kind,
        row_number() over (
            partition by e.case_id order by e.section, e.section_order, e.test_order
        ) as entry_seq,
        e.category,
        e.test_name,
        e.figures,
        e.passed,
        {{ trace_outcome('e.passed') }} as outcome
    from entries as e
    inner join cases as c on c.case_id = e.case_id
)

select * from final
