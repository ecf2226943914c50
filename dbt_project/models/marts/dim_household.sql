-- Every household known to the platform up to the run date: civil-affairs households of any snapshot and
-- 防返贫 households, with their latest snapshot's facts and whether they are monitored now.
with mz as (
    select * from {{ ref('stg_mz__households') }}
),

mz_seen as (
    select household_id, min(snapshot_cutoff) as first_seen_cutoff, max(snapshot_cutoff) as last_seen_cutoff
    from mz
    group by household_id
),

mz_latest as (
    {{ latest_per_key('mz', ['household_id'], 'snapshot_cutoff desc') }}
),

nync as (
    select * from {{ ref('stg_nync__monitored_households') }}
),

nync_seen as (
    select rural_household_id, min(snapshot_cutoff) as first_seen_cutoff, max(snapshot_cutoff) as last_seen_cutoff
    from nync
    group by rural_household_id
),

nync_latest as (
    {{ latest_per_key('nync', ['rural_household_id'], 'snapshot_cutoff desc') }}
),

monitored as (
    select * from {{ ref('int_monitored_households') }}
),

counties as (
    select * from {{ ref('int_counties') }}
),

civil_affairs as (
    select
        l.household_id,
        'mz' as household_source,
        l.category,
        l.status,
        l.region_code,
        l.county_code,
        l.township_code,
        l.urban_rural,
        l.head_key,
        l.member_count,
        l.annual_income,
        l.recognised_on,
        l.exited_on,
        s.first_seen_cutoff,
        s.last_seen_cutoff,
        l.is_current_snapshot as in_current_snapshot
    from mz_latest as l
    inner join mz_seen as s on s.household_id = l.household_id
),

rural_monitoring as (
    select
        l.rural_household_id as household_id,
        'nync' as household_source,
        '防止返贫监测对象' as category,
        l.risk_status as status,
        l.region_code,
        l.county_code,
        l.township_code,
        '农村' as urban_rural,
        l.head_key,
        l.member_count,
        cast(coalesce(l.income_per_capita, 0) * l.member_count as decimal(14, 2)) as annual_income,
        l.identified_on as recognised_on,
        cast(null as date) as exited_on,
        s.first_seen_cutoff,
        s.last_seen_cutoff,
        l.is_current_snapshot as in_current_snapshot
    from nync_latest as l
    inner join nync_seen as s on s.rural_household_id = l.rural_household_id
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
        c.status,
        c.region_code,
        c.county_code,
        k.county_name,
        k.city_code,
        k.city_name,
        c.township_code,
        c.urban_rural,
        c.head_key,
        c.member_count,
        c.annual_income,
        c.recognised_on,
        c.exited_on,
        c.first_seen_cutoff,
        c.last_seen_cutoff,
        c.in_current_snapshot,
        m.household_id is not null as is_monitored,
        {{ run_date() }} as run_date
    from combined as c
    left join monitored as m on m.household_id = c.household_id
    left join counties as k on k.county_code = c.county_code
)

select * from final
