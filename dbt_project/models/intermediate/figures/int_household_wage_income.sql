-- W05's income figure per monitored household: for each member, the employee-scheme wage base of the latest
-- 缴费年月 among the run month and the months before it (w05_months in all; schemes of that month summed).
with households as (
    select * from {{ ref('int_monitored_households') }}
),

members as (
    select * from {{ ref('int_monitored_members') }}
),

months as (
    select * from {{ ref('int_employee_contribution_months') }}
),

parameters as (
    select * from {{ ref('int_parameters_by_county') }}
),

member_months as (
    select
        m.household_id,
        m.person_key,
        c.period,
        c.wage_base
    from members as m
    inner join households as h on h.household_id = m.household_id
    inner join parameters as p on p.county_code = h.parameter_county_code
    inner join months as c on c.person_key = m.person_key
    where c.period <= {{ run_month() }}
      and c.period >= {{ add_months(run_month(), '1 - p.w05_months') }}
),

latest_per_member as (
    {{ latest_per_key('member_months', ['household_id', 'person_key'], 'period desc') }}
),

final as (
    select
        household_id,
        count(*) as contributing_members,
        sum(wage_base) as wage_base_total,
        max(period) as latest_period
    from latest_per_member
    group by household_id
)

select * from final
