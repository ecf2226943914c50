-- W05 收入超标 (拒止, 黄): a 特困人员 or 最低生活保障 household whose members' latest employee-scheme wage bases
-- (within the last w05_months months), summed and divided by the roster's 家庭人口数, exceed S (特困:
-- w05_tekun_multiplier·S) — tested multiplied out: total > multiplier · S · 家庭人口数. Subject: the household.
with households as (
    select * from {{ ref('int_monitored_households') }}
    where household_source = 'mz' and category in ('特困人员', '最低生活保障')
),

income as (
    select * from {{ ref('int_household_wage_income') }}
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
        h.member_count,
        h.dibao_standard,
        i.wage_base_total,
        i.contributing_members,
        i.latest_period,
        case when h.category = '特困人员' then p.w05_tekun_multiplier else 1 end as multiplier
    from households as h
    inner join income as i on i.household_id = h.household_id
    inner join parameters as p on p.county_code = h.parameter_county_code
),

hits as (
    select *
    from assessed
    where wage_base_total > multiplier * dibao_standard * member_count
),

final as (
    select
        'W05' as rule_code,
        cast(null as {{ dbt.type_string() }}) as sub_case,
        '黄' as level,
        'household' as subject_type,
        household_id as subject,
        household_id,
        cast(null as {{ dbt.type_string() }}) as person_key,
        cast(null as {{ dbt.type_string() }}) as households,
        'W05' as episode,
        county_code,
        township_code,
        '家庭成员最近职工社保缴费基数合计 ' || {{ fmt_yuan('wage_base_total') }}
            || '（' || cast(contributing_members as {{ dbt.type_string() }})
            || ' 人，最近 ' || {{ fmt_month('latest_period') }}
            || '），按家庭人口数 ' || cast(member_count as {{ dbt.type_string() }})
            || ' 人计人均 ' || {{ fmt_yuan('wage_base_total / member_count') }} || '/月 > '
            || case
                when category = '特困人员'
                    then '特困标准 ' || {{ fmt_yuan('multiplier * dibao_standard') }} || '（低保标准 '
                        || {{ fmt_yuan('dibao_standard') }} || ' × ' || {{ fmt_number('multiplier') }} || '）'
                else '低保标准 ' || {{ fmt_yuan('dibao_standard') }}
            end
            || '（' || category || '）' as evidence,
        cast(wage_base_total as decimal(14, 2)) as trigger_amount
    from hits
)

select * from final
