-- 单人保 candidates (docs/rules.md#identification-认定): the people of a case who hold a 一级/二级 disability of any type, a 三级
-- 智力 or 精神 disability, or whose 健康状况 is 重病. Whether they are put forward depends on the decision (the result is
-- 低保边缘家庭 and the household fails the 最低生活保障 tests): see int_identification_decisions.
with members as (
    select * from {{ ref('int_identification_case_members') }}
),

qualified as (
    select
        case_id,
        person_key,
        relation,
        case
            when disability_grade in ('一级', '二级')
                then coalesce(disability_type, '') || '残疾' || disability_grade
            when disability_grade = '三级' and disability_type in ('智力', '精神')
                then disability_type || '残疾' || disability_grade
            when health = '重病' then '重病'
        end as reason
    from members
),

final as (
    select
        case_id,
        person_key,
        relation,
        reason
    from qualified
    where reason is not null
)

select * from final
