-- China's working-day calendar around the run date (ingestion.workdays).
with source as (
    select * from {{ source('reference', 'calendar') }}
),

renamed as (
    select
        cast(date as date) as calendar_date,
        cast(is_working_day as boolean) as is_working_day
    from source
),

final as (
    select * from renamed
)

select * from final
