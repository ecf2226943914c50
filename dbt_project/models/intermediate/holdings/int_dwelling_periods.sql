-- Who holds each dwelling, and when (docs/verification.md). A unit's holders from a registration's 登记日期 on are the
-- rows of that registration — the unit's latest by (登记日期, 登记业务号) — until the unit's next registration: a
-- 转移登记 to others ends the earlier holders' holding, and after a 注销登记 nobody holds the unit. One row per
-- (registration, holder) that makes the holder hold a dwelling (房屋用途 住宅) for a non-empty period [valid_from,
-- valid_to); valid_to is empty while the registration is the unit's latest. The unit number is a key only.
with registrations as (
    select * from {{ ref('stg_zrzy__property_registrations') }}
),

-- one row per registration of a unit (a joint registration has a row per holder, all on the same 登记日期)
unit_registrations as (
    select
        unit_id,
        registration_id,
        min(registered_on) as registered_on
    from registrations
    group by unit_id, registration_id
),

sequenced as (
    select
        unit_id,
        registration_id,
        registered_on,
        lead(registered_on) over (partition by unit_id order by registered_on, registration_id) as next_registered_on
    from unit_registrations
),

final as (
    select
        r.unit_id,
        r.registration_id,
        r.holder_key,
        r.registration_type,
        r.floor_area,
        s.registered_on as valid_from,
        s.next_registered_on as valid_to
    from registrations as r
    inner join sequenced as s
        on s.unit_id = r.unit_id
       and s.registration_id = r.registration_id
    where r.registration_type <> '注销登记'
      and r.use = '住宅'
      -- a later registration on the same day replaces this one before it ever holds
      and (s.next_registered_on is null or s.next_registered_on > s.registered_on)
)

select * from final
