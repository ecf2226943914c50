{{ config(
    materialized=history_materialization(),
    incremental_strategy='delete+insert',
    unique_key='period',
) }}
-- Assistance paid per person, programme and month, negative payments (recovered overpayments) netted
-- against the same (person, programme, month); the households the payments name (W06, W07(b)).
with payments as (
    select * from {{ ref('stg_mz__payments') }}
    {%- if is_incremental() %}
    -- a monthly build: the months of the payments delivered since the previous build, and the months an earlier
    -- version of a restated payment counted in (docs/incremental.md)
    where period in (
        select period from {{ ref('stg_mz__payments') }}
        where delivered_cutoff > {{ built_through() }}
        union
        select cast(earlier.period as date)
        from ({{ lake_rows(source('mz', 'mz_payment')) }}) as earlier
        where earlier._cutoff <= {{ built_through() }}
          and earlier.payment_id in (
              select payment_id from {{ ref('stg_mz__payments') }}
              where delivered_cutoff > {{ built_through() }}
          )
    )
    {%- endif %}
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
