-- Contribution history: one row per person and month with employee-scheme (企业职工/机关事业) contributions,
-- the wage bases of that month's schemes summed (W03, W05).
with contributions as (
    select * from {{ ref('stg_rsj__contributions') }}
    where is_employee_scheme
),

final as (
    select
        person_key,
        period,
        count(*) as schemes,
        sum(wage_base) as wage_base
    from contributions
    group by person_key, period
)

select * from final
