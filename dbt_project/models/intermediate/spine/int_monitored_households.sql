-- Every household monitored at the run date (docs/rules.md#who-is-monitored): the in-force (在保) households of the
-- current mz_household snapshot, plus each 未消除 防返贫 head of the current nync snapshot as a one-person household keyed
-- by 户编码 — unless the head is in an in-force civil-affairs household, which then takes precedence.
with mz_households as (
    select * from {{ ref('stg_mz__households') }}
    where is_current_snapshot and is_in_force
),

mz_members as (
    select * from {{ ref('int_mz_snapshot_members') }}
    where is_current_snapshot and is_in_force
),

nync as (
    select * from {{ ref('stg_nync__monitored_households') }}
    where is_current_snapshot and risk_status = '未消除'
),

counties as (
    select * from {{ ref('int_counties') }}
),

standards as (
    select * from {{ ref('int_dibao_standards_current') }}
),

civil_affairs as (
    select
        household_id,
        'mz' as household_source,
        category,
        region_code,
        county_code,
        township_code,
        urban_rural,
        head_key,
        member_count,
        annual_income,
        snapshot_cutoff
    from mz_households
),

rural_monitoring as (
    select
        rural_household_id as household_id,
        'nync' as household_source,
        '防止返贫监测对象' as category,
        region_code,
        county_code,
        township_code,
        '农村' as urban_rural,
        head_key,
        member_count,
        cast(coalesce(income_per_capita, 0) * member_count as decimal(14, 2)) as annual_income,
        snapshot_cutoff
    from nync
    where head_key not in (select person_key from mz_members)
),

combined as (
    select * from civil_affairs
    union all
    select * from rural_monitoring
),

final as (
    select
        c.household_id,
        c.household_source,
        c.category,
        c.region_code,
        c.county_code,
        k.county_name,
        c.township_code,
        c.urban_rural,
        c.head_key,
        c.member_count,
        c.annual_income,
        s.monthly_standard as dibao_standard,
        coalesce(k.parameter_county_code, {{ province_county_code() }}) as parameter_county_code,
        c.snapshot_cutoff
    from combined as c
    left join counties as k on k.county_code = c.county_code
    left join standards as s
        on s.county_code = c.county_code
       and s.urban_rural = c.urban_rural
)

select * from final
