-- The businesses members of every monitored household represent at the run date (docs/verification.md): one row
-- per (business, member) of the latest 市场主体登记 snapshot, 存续, 成立日期 ≤ run date. W11 and the household mart read it.
with members as (
    select * from {{ ref('int_monitored_members') }}
),

businesses as (
    select * from {{ ref('int_business_periods') }}
),

final as (
    select
        m.household_id,
        m.person_key,
        b.credit_code,
        b.entity_type,
        b.is_company,
        b.registered_capital,
        b.established_on
    from members as m
    inner join businesses as b on b.rep_key = m.person_key
    where {{ business_active_on('b', run_date()) }}
)

select * from final
