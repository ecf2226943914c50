{{ config(
    materialized=history_materialization(),
    incremental_strategy='delete+insert',
    unique_key='payment_id',
) }}
-- 救助金发放明细 (increment): the latest version of each payment; negative amounts are recoveries.
with source as (
    {{ lake_rows(source('mz', 'mz_payment')) }}
    {%- if is_incremental() %}
      -- a monthly build: the deliveries since the previous build; a payment they restate replaces its row, since
      -- their cut-offs are later than every one the table holds (docs/incremental.md)
      and _cutoff > {{ built_through() }}
    {%- endif %}
),

renamed as (
    select
        cast(payment_id as {{ dbt.type_string() }}) as payment_id,
        cast(period as date) as period,
        cast(household_id as {{ dbt.type_string() }}) as household_id,
        person_key,
        birth_date,
        id_region,
        programme,
        cast(amount as decimal(14, 2)) as amount,
        paid_on,
        _cutoff,
        _seq,
        _data_row
    from source
),

latest as (
    {{ latest_per_key('renamed', ['payment_id']) }}
),

final as (
    select
        payment_id,
        period,
        household_id,
        person_key,
        birth_date,
        id_region,
        programme,
        amount,
        paid_on,
        _cutoff as delivered_cutoff
    from latest
)

select * from final
