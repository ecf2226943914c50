-- W10 房产超标 (拒止, docs/verification.md): an in-force civil-affairs household whose 救助类别 has an asset test holds
-- more extra dwellings at the run date (its members' distinct dwellings − 1) than its limit — 0 for 特困人员 and
-- 最低生活保障, edge_max_extra_properties for 低保边缘家庭 and 刚性支出困难家庭. 橙 when a member became a holder of one
-- of them after the 认定日期: the registration that makes a member hold it (a 首次/转移/变更登记 naming the member, the
-- unit's latest) is dated strictly after it; else 黄. Subject: the household, episode the rule; person_key the member
-- of the most recent acquisition (latest 登记日期, then the greatest 登记业务号, then the smallest person key for a joint
-- registration). The evidence names counts and dates, never a unit number.
with households as (
    select * from {{ ref('int_monitored_households') }}
    where household_source = 'mz' and category in ('特困人员', '最低生活保障', '低保边缘家庭', '刚性支出困难家庭')
),

rosters as (
    select household_id, recognised_on from {{ ref('stg_mz__households') }}
    where is_current_snapshot
),

dwellings as (
    select * from {{ ref('int_household_dwellings') }}
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
        case when h.category in ('特困人员', '最低生活保障') then 0 else p.edge_max_extra_properties end as extra_limit
    from households as h
    inner join rosters as r on r.household_id = h.household_id
    inner join parameters as p on p.county_code = h.parameter_county_code
),

ranked as (
    select
        a.*,
        d.person_key,
        d.unit_id,
        d.registration_id,
        d.registered_on,
        row_number() over (
            partition by a.household_id order by d.registered_on desc, d.registration_id desc, d.person_key asc
        ) as recency,
        -- one row per unit for counting and listing (a unit two members hold jointly counts once)
        row_number() over (partition by a.household_id, d.unit_id order by d.person_key) as unit_row
    from assessed as a
    inner join dwellings as d on d.household_id = a.household_id
),

summed as (
    select
        household_id,
        max(category) as category,
        max(county_code) as county_code,
        max(township_code) as township_code,
        max(recognised_on) as recognised_on,
        max(extra_limit) as extra_limit,
        sum(case when unit_row = 1 then 1 else 0 end) as dwelling_count,
        max(case when recency = 1 then person_key end) as person_key,
        sum(case when unit_row = 1 and registered_on > recognised_on then 1 else 0 end) as acquired_while_assisted,
        {{ string_agg_ordered(
            "case when unit_row = 1 then " ~ fmt_date('registered_on') ~ " end", '、', '0 - recency'
        ) }} as registration_dates
    from ranked
    group by household_id
),

final as (
    select
        'W10' as rule_code,
        cast(null as {{ dbt.type_string() }}) as sub_case,
        case when acquired_while_assisted > 0 then '橙' else '黄' end as level,
        'household' as subject_type,
        household_id as subject,
        household_id,
        person_key,
        cast(null as {{ dbt.type_string() }}) as households,
        'W10' as episode,
        county_code,
        township_code,
        '家庭成员名下住宅 ' || {{ fmt_count('dwelling_count') }} || ' 套（登记日期 ' || registration_dates
            || '），唯一住房以外 ' || {{ fmt_count('dwelling_count - 1') }} || ' 套；' || category || '限 '
            || {{ fmt_count('extra_limit') }} || ' 套'
            || case
                when acquired_while_assisted > 0
                    then '；其中 ' || {{ fmt_count('acquired_while_assisted') }} || ' 套在认定日期 '
                        || {{ fmt_date('recognised_on') }} || ' 之后登记至成员名下'
                else '；均在认定日期 ' || {{ fmt_date('recognised_on') }} || ' 或之前登记'
            end as evidence,
        cast(dwelling_count - 1 as decimal(14, 2)) as trigger_amount
    from summed
    where dwelling_count - 1 > extra_limit
)

select * from final
