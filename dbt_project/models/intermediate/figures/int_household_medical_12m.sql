-- A monitored household's trailing-12-month medical figures: the settlements of its members on the run date.
with members as (
    select * from {{ ref('int_monitored_members') }}
),

medical as (
    select * from {{ ref('int_medical_person_12m') }}
),

final as (
    select
        m.household_id,
        min(med.window_start) as window_start,
        max(med.window_end) as window_end,
        count(distinct m.person_key) as members_with_claims,
        sum(med.settlements_12m) as settlements_12m,
        sum(med.self_paid_12m) as self_paid_12m,
        sum(med.medical_aid_paid_12m) as medical_aid_paid_12m
    from members as m
    inner join medical as med on med.person_key = m.person_key
    group by m.household_id
)

select * from final
