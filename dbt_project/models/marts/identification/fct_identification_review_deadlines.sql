-- Review deadlines of open applications by county (docs/rules.md#identification-认定: decision within
-- review_deadline_working_days working days of 申请日期): how many are open and overdue, the oldest, and the next deadline.
-- Applications whose deadline the working-day calendar cannot reach are counted as deadline_unknown.
with identification as (
    select * from {{ ref('fct_identification') }}
    where is_open
),

final as (
    select
        county_code,
        count(*) as open_applications,
        sum(case when overdue then 1 else 0 end) as overdue_applications,
        sum(case when deadline is null then 1 else 0 end) as deadline_unknown,
        min(applied_on) as oldest_applied_on,
        max(working_days_elapsed) as max_working_days_elapsed,
        min(case when not overdue then deadline end) as next_deadline,
        {{ run_date() }} as run_date
    from identification
    group by county_code
)

select * from final
