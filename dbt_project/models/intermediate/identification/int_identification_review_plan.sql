-- Which categories each case is reviewed for, in which order (docs/rules.md#identification-认定):
--   申请 with consent (是): 特困人员 → 最低生活保障 → 低保边缘家庭 → 刚性支出困难家庭;
--   申请 without consent: the requested category only (none when it has no test here: 防返贫, 其他 → 无);
--   退出转入申请: 低保边缘家庭 → 刚性支出困难家庭 with consent, else the requested one if it is one of those two;
--   退出复核 (a household leaving 特困/低保): 低保边缘家庭 → 刚性支出困难家庭.
with cases as (
    select * from {{ ref('int_identification_cases') }}
),

categories as (
    {%- for category in identification_categories() %}
    select '{{ category }}' as category, {{ loop.index }} as category_rank
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

candidates as (
    select
        c.case_id,
        k.category,
        k.category_rank
    from cases as c
    cross join categories as k
    where case
        when c.review_kind = '退出复核' then k.category_rank >= 3
        when c.review_kind = '退出转入申请' and c.consent = '是' then k.category_rank >= 3
        when c.review_kind = '退出转入申请' then k.category_rank >= 3 and k.category = c.requested_category
        when c.consent = '是' then true
        else k.category = c.requested_category
    end
),

final as (
    select
        case_id,
        category,
        category_rank,
        row_number() over (partition by case_id order by category_rank) as review_order
    from candidates
)

select * from final
