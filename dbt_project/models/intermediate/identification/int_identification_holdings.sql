-- What the other departments record for each identification case (the 核对 of docs/verification.md), one row per case:
-- the counted vehicles, dwellings and companies of the case's people on the case's date T. An application is
-- checked at its 申请日期 over its members (the applicant included); an exit review at the later snapshot's cut-off
-- over the members of the latest snapshot that shows the household (the later one when it still lists it, else the
-- earlier one: docs/rules.md#identification-认定).
with application_members as (
    select case_id, person_key from {{ ref('int_identification_case_members') }}
    where review_kind <> '退出复核'
),

applications as (
    select application_id, applied_on from {{ ref('stg_mz__applications') }}
),

exits as (
    select * from {{ ref('int_identification_exits') }}
),

rosters as (
    select household_id, snapshot_cutoff from {{ ref('stg_mz__households') }}
),

snapshot_members as (
    select * from {{ ref('int_mz_snapshot_members') }}
),

vehicles as (
    select * from {{ ref('int_vehicle_periods') }}
),

dwellings as (
    select * from {{ ref('int_dwelling_periods') }}
),

businesses as (
    select * from {{ ref('int_business_periods') }}
),

exit_cases as (
    select
        'exit:' || e.household_id || ':' || {{ fmt_date('e.from_cutoff') }} as case_id,
        e.household_id,
        e.to_cutoff as verified_on,
        case when t.household_id is not null then e.to_cutoff else e.from_cutoff end as roster_cutoff
    from exits as e
    left join rosters as t
        on t.household_id = e.household_id
       and t.snapshot_cutoff = e.to_cutoff
),

case_people as (
    select
        m.case_id,
        a.applied_on as verified_on,
        m.person_key
    from application_members as m
    inner join applications as a on a.application_id = m.case_id
    union all
    select
        c.case_id,
        c.verified_on,
        m.person_key
    from exit_cases as c
    inner join snapshot_members as m
        on m.household_id = c.household_id
       and m.snapshot_cutoff = c.roster_cutoff
),

cases as (
    select application_id as case_id, applied_on as verified_on from applications
    union all
    select case_id, verified_on from exit_cases
),

vehicle_counts as (
    select p.case_id, count(distinct v.vin) as vehicle_count
    from case_people as p
    inner join vehicles as v
        on v.owner_key = p.person_key
       and {{ vehicle_counted_on('v', 'p.verified_on') }}
    group by p.case_id
),

dwelling_counts as (
    select p.case_id, count(distinct d.unit_id) as dwelling_count
    from case_people as p
    inner join dwellings as d
        on d.holder_key = p.person_key
       and {{ period_holds('d', 'p.verified_on') }}
    group by p.case_id
),

company_counts as (
    select p.case_id, count(distinct b.credit_code) as company_count
    from case_people as p
    inner join businesses as b
        on b.rep_key = p.person_key
       and b.is_company
       and {{ business_active_on('b', 'p.verified_on') }}
    group by p.case_id
),

final as (
    select
        c.case_id,
        c.verified_on,
        coalesce(v.vehicle_count, 0) as registered_vehicle_count,
        coalesce(d.dwelling_count, 0) as registered_dwelling_count,
        greatest(coalesce(d.dwelling_count, 0) - 1, 0) as registered_extra_dwelling_count,
        coalesce(b.company_count, 0) as registered_company_count,
        coalesce(b.company_count, 0) > 0 as represents_company
    from cases as c
    left join vehicle_counts as v on v.case_id = c.case_id
    left join dwelling_counts as d on d.case_id = c.case_id
    left join company_counts as b on b.case_id = c.case_id
)

select * from final
