-- W09 车辆超标 (拒止, docs/verification.md): an in-force civil-affairs household whose 救助类别 has an asset test holds
-- more counted vehicles at the run date than its limit — 0 for 特困人员 and 最低生活保障, edge_max_vehicles for
-- 低保边缘家庭 and 刚性支出困难家庭. 橙 when one of them was first registered strictly after the household's 认定日期
-- (bought while assisted), else 黄. Subject: the household, episode the rule; person_key the owner of the most recent
-- vehicle (latest 初次登记日期, then the greatest VIN). The evidence names types and dates, never a VIN or a plate.
with households as (
    select * from {{ ref('int_monitored_households') }}
    where household_source = 'mz' and category in ('特困人员', '最低生活保障', '低保边缘家庭', '刚性支出困难家庭')
),

rosters as (
    select household_id, recognised_on from {{ ref('stg_mz__households') }}
    where is_current_snapshot
),

vehicles as (
    select * from {{ ref('int_household_vehicles') }}
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
        r.recognised_on,
        case when h.category in ('特困人员', '最低生活保障') then 0 else p.edge_max_vehicles end as vehicle_limit
    from households as h
    inner join rosters as r on r.household_id = h.household_id
    inner join parameters as p on p.county_code = h.parameter_county_code
),

ranked as (
    select
        a.*,
        v.person_key,
        v.vin,
        v.vehicle_type,
        v.first_registered_on,
        count(*) over (partition by a.household_id) as vehicle_count,
        row_number() over (partition by a.household_id order by v.first_registered_on desc, v.vin desc) as recency
    from assessed as a
    inner join vehicles as v on v.household_id = a.household_id
),

summed as (
    select
        household_id,
        max(category) as category,
        max(county_code) as county_code,
        max(township_code) as township_code,
        max(recognised_on) as recognised_on,
        max(vehicle_limit) as vehicle_limit,
        max(vehicle_count) as vehicle_count,
        max(case when recency = 1 then person_key end) as person_key,
        sum(case when first_registered_on > recognised_on then 1 else 0 end) as bought_while_assisted,
        {{ string_agg_ordered(
            "vehicle_type || '（初次登记 ' || " ~ fmt_date('first_registered_on') ~ " || '）'", '、', '0 - recency'
        ) }} as vehicle_list
    from ranked
    group by household_id
),

final as (
    select
        'W09' as rule_code,
        cast(null as {{ dbt.type_string() }}) as sub_case,
        case when bought_while_assisted > 0 then '橙' else '黄' end as level,
        'household' as subject_type,
        household_id as subject,
        household_id,
        person_key,
        cast(null as {{ dbt.type_string() }}) as households,
        'W09' as episode,
        county_code,
        township_code,
        '家庭成员名下登记机动车 ' || {{ fmt_count('vehicle_count') }} || ' 辆：' || vehicle_list
            || '；' || category || '限 ' || {{ fmt_count('vehicle_limit') }} || ' 辆（摩托车、低速货车、残疾人专用车不计）'
            || case
                when bought_while_assisted > 0
                    then '；其中 ' || {{ fmt_count('bought_while_assisted') }} || ' 辆在认定日期 '
                        || {{ fmt_date('recognised_on') }} || ' 之后初次登记'
                else '；均在认定日期 ' || {{ fmt_date('recognised_on') }} || ' 或之前初次登记'
            end as evidence,
        cast(vehicle_count as decimal(14, 2)) as trigger_amount
    from summed
    where vehicle_count > vehicle_limit
)

select * from final
