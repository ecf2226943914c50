-- The counted vehicles of every monitored household at the run date (docs/verification.md): one row per vehicle
-- owned by a member on the run date (latest 机动车登记 snapshot, 正常, 初次登记日期 ≤ run date, not 摩托车/低速货车/
-- 残疾人专用车). W09 and the household mart read it.
with members as (
    select * from {{ ref('int_monitored_members') }}
),

vehicles as (
    select * from {{ ref('int_vehicle_periods') }}
),

final as (
    select
        m.household_id,
        m.person_key,
        v.vin,
        v.vehicle_type,
        v.first_registered_on
    from members as m
    inner join vehicles as v on v.owner_key = m.person_key
    where {{ vehicle_counted_on('v', run_date()) }}
)

select * from final
