-- W01 支出骤增·医疗 (进入): a monitored household's members' trailing-12-month 个人负担 (reversals netted)
-- ≥ max(w01_floor, w01_income_share × 家庭年收入); 红 at or above w01_red, else 橙. Subject: the household.
with households as (
    select * from {{ ref('int_monitored_households') }}
),

medical as (
    select * from {{ ref('int_household_medical_12m') }}
),

parameters as (
    select * from {{ ref('int_parameters_by_county') }}
),

assessed as (
    select
        h.household_id,
        h.county_code,
        h.township_code,
        h.annual_income,
        m.window_start,
        m.window_end,
        m.self_paid_12m,
        p.w01_floor,
        p.w01_income_share,
        p.w01_red,
        greatest(p.w01_floor, p.w01_income_share * h.annual_income) as threshold
    from households as h
    inner join medical as m on m.household_id = h.household_id
    inner join parameters as p on p.county_code = h.parameter_county_code
),

hits as (
    select
        *,
        case when self_paid_12m >= w01_red then '红' else '橙' end as level
    from assessed
    where self_paid_12m >= threshold
),

final as (
    select
        'W01' as rule_code,
        cast(null as {{ dbt.type_string() }}) as sub_case,
        level,
        'household' as subject_type,
        household_id as subject,
        household_id,
        cast(null as {{ dbt.type_string() }}) as person_key,
        cast(null as {{ dbt.type_string() }}) as households,
        'W01' as episode,
        county_code,
        township_code,
        '近12个月（' || {{ fmt_date('window_start') }} || '至' || {{ fmt_date('window_end') }} || '）家庭成员个人负担合计 '
            || {{ fmt_yuan('self_paid_12m') }} || ' ≥ 阈值 ' || {{ fmt_yuan('threshold') }}
            || '（取 ' || {{ fmt_yuan('w01_floor') }} || ' 与家庭年收入 ' || {{ fmt_yuan('annual_income') }}
            || ' 的' || {{ fmt_percent('w01_income_share') }} || ' 之较大者）'
            || case
                when level = '红' then '；达到红色预警金额 ' || {{ fmt_yuan('w01_red') }}
                else '；未达红色预警金额 ' || {{ fmt_yuan('w01_red') }}
            end as evidence,
        cast(self_paid_12m as decimal(14, 2)) as trigger_amount
    from hits
)

select * from final
