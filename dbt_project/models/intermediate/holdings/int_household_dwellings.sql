-- The dwellings of every monitored household at the run date (docs/verification.md): one row per (unit, member
-- holding it), with the registration that makes the member a holder (the unit's latest up to the run date). A
-- household's dwellings are its distinct units; W10 and the household mart read it.
with members as (
    select * from {{ ref('int_monitored_members') }}
),

dwellings as (
    select * from {{ ref('int_dwelling_periods') }}
),

final as (
    select
        m.household_id,
        m.person_key,
        d.unit_id,
        d.registration_id,
        d.registration_type,
        d.valid_from as registered_on
    from members as m
    inner join dwellings as d on d.holder_key = m.person_key
    where {{ period_holds('d', run_date()) }}
)

select * from final
