-- The working-day calendar with a running number of working days, so that "the Nth working day after D"
-- is the working day numbered number(D) + N (D itself not counted, whether or not it is a working day).
with calendar as (
    select * from {{ ref('stg_reference__calendar') }}
),

final as (
    select
        calendar_date,
        is_working_day,
        sum(case when is_working_day then 1 else 0 end) over (
            order by calendar_date rows between unbounded preceding and current row
        ) as working_day_number
    from calendar
)

select * from final
