-- Trailing-12-month medical figures per person (docs/rules.md, "Who is monitored"): settlements dated from the run
-- date − medical_window_months (12) + 1 day to the run date, reversals netted (a cancelled pair counts zero wherever
-- its halves fall). The window is province-wide: the province row of the parameter (a person has no county here).
with settlements as (
    select * from {{ ref('stg_ybj__settlements') }}
),

parameters as (
    select * from {{ ref('int_parameters_by_county') }}
    where county_code = {{ province_county_code() }}
),

bounds as (
    select
        {{ add_days(add_months(run_date(), '-p.medical_window_months'), 1) }} as window_start,
        {{ run_date() }} as window_end
    from parameters as p
),

in_window as (
    select s.*
    from settlements as s
    cross join bounds as b
    where s.counts_in_totals
      and s.settled_on between b.window_start and b.window_end
),

final as (
    select
        i.person_key,
        b.window_start,
        b.window_end,
        count(*) as settlements_12m,
        sum(i.self_paid) as self_paid_12m,
        sum(i.medical_aid_paid) as medical_aid_paid_12m,
        sum(i.total_cost) as total_cost_12m,
        -- W08(c): medical aid paid on none of them
        min(case when i.medical_aid_paid = 0 then 1 else 0 end) = 1 as no_medical_aid_12m
    from in_window as i
    cross join bounds as b
    group by i.person_key, b.window_start, b.window_end
)

select * from final
