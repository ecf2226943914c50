-- The decision of each case (docs/rules.md#identification-认定): the first category of its review plan whose tests all
-- pass (无 when none does, or when nothing was reviewed); 单人保 whenever the result is 低保边缘家庭 and the household fails the
-- 最低生活保障 tests (reviewed or not): its 单人保 candidates, keys `|`-joined and sorted; 临时救助 during review when
-- the result is 特困人员 or 最低生活保障 and either 近12个月自付医疗费用 ≥ temp_medical_threshold or a case member
-- belongs to a household with a W02/W04 warning raised in this run: temp_months_of_standard × S × 家庭人口数.
with cases as (
    select * from {{ ref('int_identification_cases') }}
),

plan as (
    select * from {{ ref('int_identification_review_plan') }}
),

results as (
    select * from {{ ref('int_identification_test_results') }}
),

cover as (
    select * from {{ ref('int_identification_individual_cover') }}
),

warned as (
    select * from {{ ref('int_identification_warned_cases') }}
),

reviewed as (
    select
        p.case_id,
        p.category,
        p.review_order,
        coalesce(
            case p.category
                {%- for category in identification_categories() %}
                when '{{ category }}' then r.{{ category_prefix(category) }}_met
                {%- endfor %}
            end,
            false
        ) as is_met
    from plan as p
    inner join results as r on r.case_id = p.case_id
),

outcomes as (
    select
        case_id,
        min(case when is_met then review_order end) as result_review_order,
        count(*) as categories_reviewed
    from reviewed
    group by case_id
),

result_categories as (
    select r.case_id, r.categories_reviewed, r.result_review_order, v.category as result_category
    from outcomes as r
    left join reviewed as v
        on v.case_id = r.case_id
       and v.review_order = r.result_review_order
),

cover_keys as (
    select
        case_id,
        count(*) as candidates,
        {{ string_agg_sorted('person_key') }} as candidate_keys
    from cover
    group by case_id
),

decided as (
    select
        c.case_id,
        coalesce(r.result_category, '无') as result_category,
        coalesce(r.categories_reviewed, 0) as categories_reviewed,
        r.result_review_order,
        coalesce(d.dibao_met, false) as dibao_met,
        coalesce(k.candidates, 0) as individual_cover_candidates,
        k.candidate_keys,
        coalesce(c.medical_expense_12m >= c.temp_medical_threshold, false) as temp_medical_reached,
        w.case_id is not null as has_w02_w04,
        w.warning_rules,
        w.warning_ids,
        c.temp_months_of_standard,
        c.dibao_standard,
        c.member_count
    from cases as c
    left join result_categories as r on r.case_id = c.case_id
    left join results as d on d.case_id = c.case_id
    left join cover_keys as k on k.case_id = c.case_id
    left join warned as w on w.case_id = c.case_id
),

final as (
    select
        case_id,
        result_category,
        categories_reviewed,
        result_review_order,
        dibao_met,
        result_category = '低保边缘家庭' and not dibao_met as individual_cover_applies,
        individual_cover_candidates,
        case
            when result_category = '低保边缘家庭' and not dibao_met then candidate_keys
        end as individual_cover_keys,
        temp_medical_reached,
        has_w02_w04,
        warning_rules,
        warning_ids,
        result_category in ('特困人员', '最低生活保障') and (temp_medical_reached or has_w02_w04)
            as temp_assistance_recommended,
        cast(
            case
                when result_category in ('特困人员', '最低生活保障') and (temp_medical_reached or has_w02_w04)
                    then temp_months_of_standard * dibao_standard * member_count
                else 0
            end as decimal(14, 2)
        ) as temp_assistance_amount
    from decided
)

select * from final
