-- Assistance paid per person, programme and month, negative payments (recovered overpayments) netted
-- against the same (person, programme, month); the households the payments name (W06, W07(b)).
with payments as (
    select * from {{ ref('stg_mz__payments') }}
),

final as (
    select
        person_key,
        programme,
        period,
        sum(amount) as net_amount,
        count(*) as payments,
        {{ string_agg_sorted('household_id') }} as households,
        min(household_id) as first_household_id
    from payments
    group by person_key, programme, period
)

select * from final
