-- W11 经营主体 (拒止, docs/verification.md): a member of an in-force 特困人员 or 最低生活保障 household represents, at the
-- run date, (a) a company (有限责任公司, 股份有限公司, 个人独资企业, 合伙企业) → 橙; or (b) a 个体工商户, 农民专业合作社 or
-- 其他 with 注册资本 ≥ w11_capital (an empty capital counts as 0; equal fires) → 黄. One warning per business: subject the
-- household, episode `business:<统一社会信用代码>`, person_key the representative. The evidence names the entity type,
-- capital and founding date, never the entity's name (it often holds a person's name).
with households as (
    select * from {{ ref('int_monitored_households') }}
    where household_source = 'mz' and category in ('特困人员', '最低生活保障')
),

businesses as (
    select * from {{ ref('int_household_businesses') }}
),

parameters as (
    select * from {{ ref('int_parameters_by_county') }}
),

assessed as (
    select
        h.household_id,
        h.category,
        h.county_code,
        h.township_code,
        b.person_key,
        b.credit_code,
        b.entity_type,
        b.is_company,
        b.registered_capital,
        b.established_on,
        p.w11_capital
    from households as h
    inner join businesses as b on b.household_id = h.household_id
    inner join parameters as p on p.county_code = h.parameter_county_code
),

hits as (
    select
        *,
        case when is_company then 'a' else 'b' end as sub_case
    from assessed
    where is_company or registered_capital >= w11_capital
),

final as (
    select
        'W11' as rule_code,
        sub_case,
        case when sub_case = 'a' then '橙' else '黄' end as level,
        'household' as subject_type,
        household_id as subject,
        household_id,
        person_key,
        cast(null as {{ dbt.type_string() }}) as households,
        'business:' || credit_code as episode,
        county_code,
        township_code,
        '家庭成员担任市场主体法定代表人（经营者）：主体类型 ' || entity_type || '，成立日期 ' || {{ fmt_date('established_on') }}
            || '，注册资本 ' || {{ fmt_yuan('registered_capital') }}
            || case
                when sub_case = 'a' then '（' || category || '家庭成员担任公司法定代表人）'
                else '（≥ ' || {{ fmt_yuan('w11_capital') }} || '）'
            end as evidence,
        cast(registered_capital as decimal(14, 2)) as trigger_amount
    from hits
)

select * from final
