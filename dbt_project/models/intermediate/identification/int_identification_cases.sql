-- Every case the identification engine decides at the run date, one row each, with every figure its tests
-- compare (docs/rules.md#identification-认定): each application of mz_application (the latest version), and each
-- household leaving 特困/低保 between two snapshots (退出复核), on the figures of the latest snapshot showing it (the later one
-- when it is still listed, the earlier one when it is absent: int_identification_exits.figures_cutoff). S and D are
-- those in force on the run date for the case's county and 城乡类别; parameters are the county's at the run date
-- (nothing here is a literal threshold).
-- The 核对 (docs/verification.md): the registered vehicles, extra dwellings and companies of the case's people, and the
-- vehicle and dwelling figures the asset tests use, the larger of declared and registered (an exit review declares
-- nothing: its registered figures are used).
with applications as (
    select * from {{ ref('stg_mz__applications') }}
),

application_members as (
    select * from {{ ref('stg_mz__application_members') }}
),

exits as (
    select * from {{ ref('int_identification_exits') }}
),

households as (
    select * from {{ ref('stg_mz__households') }}
),

exit_members as (
    select * from {{ ref('int_identification_case_members') }}
    where review_kind = '退出复核'
),

medical as (
    select * from {{ ref('int_medical_person_12m') }}
),

counties as (
    select * from {{ ref('int_counties') }}
),

parameters as (
    select * from {{ ref('int_parameters_by_county') }}
),

holdings as (
    select * from {{ ref('int_identification_holdings') }}
),

review_days as (
    select county_code, value as review_deadline_working_days
    from {{ ref('stg_reference__parameters') }}
    where parameter = 'review_deadline_working_days'
),

standards as (
    select * from {{ ref('int_dibao_standards_current') }}
),

-- D: last year's figure relative to the run date
disposable_incomes as (
    select county_code, urban_rural, year, per_capita_disposable_income
    from {{ ref('stg_reference__disposable_income') }}
    where year = extract(year from {{ run_date() }}) - 1
),

member_rows as (
    select application_id, count(*) as member_rows
    from application_members
    group by application_id
),

-- 特困 looks at the single member's row, or the applicant's when there are several (docs/rules.md#identification-认定)
subjects as (
    select
        a.application_id,
        m.person_key,
        m.birth_date,
        m.labour_capacity,
        m.disability_type,
        m.disability_grade,
        m.has_supporter,
        m.supporter_capable
    from applications as a
    inner join member_rows as r on r.application_id = a.application_id
    inner join application_members as m on m.application_id = a.application_id
    where r.member_rows = 1 or m.person_key = a.applicant_key
),

application_cases as (
    select
        a.application_id as case_id,
        case when a.origin = '退出转入' then '退出转入申请' else '申请' end as review_kind,
        a.application_id,
        cast(null as varchar) as household_id,
        a.previous_household_id,
        cast(null as date) as from_cutoff,
        cast(null as date) as to_cutoff,
        cast(null as date) as figures_cutoff,
        cast(null as varchar) as previous_category,
        cast(null as varchar) as exit_reason,
        a.applied_on,
        a.region_code,
        a.county_code,
        a.township_code,
        a.urban_rural,
        a.consent,
        a.requested_category,
        a.origin,
        a.member_count,
        a.annual_income,
        a.financial_assets,
        a.vehicle_count,
        a.extra_property_count,
        a.medical_expense_12m,
        a.education_expense_12m,
        true as assets_declared,
        coalesce(s.person_key, a.applicant_key) as subject_person_key,
        {{ age_on('coalesce(s.birth_date, a.applicant_birth_date)', 'a.applied_on') }} as subject_age,
        s.labour_capacity as subject_labour_capacity,
        s.disability_type as subject_disability_type,
        s.disability_grade as subject_disability_grade,
        s.has_supporter as subject_has_supporter,
        s.supporter_capable as subject_supporter_capable
    from applications as a
    left join subjects as s on s.application_id = a.application_id
),

-- a household leaving 特困/低保: its roster row in the latest snapshot showing it, and its members' (of that snapshot)
-- trailing-12-month 个人负担 as medical costs
exit_medical as (
    select
        m.case_id,
        coalesce(sum(med.self_paid_12m), 0) as self_paid_12m
    from exit_members as m
    left join medical as med on med.person_key = m.person_key
    group by m.case_id
),

exit_cases as (
    select
        'exit:' || e.household_id || ':' || {{ fmt_date('e.from_cutoff') }} as case_id,
        '退出复核' as review_kind,
        cast(null as varchar) as application_id,
        e.household_id,
        cast(null as varchar) as previous_household_id,
        e.from_cutoff,
        e.to_cutoff,
        e.figures_cutoff,
        e.previous_category,
        e.exit_reason,
        cast(null as date) as applied_on,
        h.region_code,
        h.county_code,
        h.township_code,
        h.urban_rural,
        cast(null as varchar) as consent,
        cast(null as varchar) as requested_category,
        cast(null as varchar) as origin,
        h.member_count,
        h.annual_income,
        cast(0 as decimal(14, 2)) as financial_assets,
        0 as vehicle_count,
        0 as extra_property_count,
        cast(coalesce(x.self_paid_12m, 0) as decimal(14, 2)) as medical_expense_12m,
        cast(0 as decimal(14, 2)) as education_expense_12m,
        false as assets_declared,
        h.head_key as subject_person_key,
        cast(null as integer) as subject_age,
        cast(null as varchar) as subject_labour_capacity,
        cast(null as varchar) as subject_disability_type,
        cast(null as varchar) as subject_disability_grade,
        cast(null as varchar) as subject_has_supporter,
        cast(null as varchar) as subject_supporter_capable
    from exits as e
    inner join households as h
        on h.household_id = e.household_id
       and h.snapshot_cutoff = e.figures_cutoff
    left join exit_medical as x
        on x.case_id = 'exit:' || e.household_id || ':' || {{ fmt_date('e.from_cutoff') }}
),

combined as (
    select * from application_cases
    union all
    select * from exit_cases
),

final as (
    select
        c.*,
        coalesce(k.parameter_county_code, {{ province_county_code() }}) as parameter_county_code,
        s.monthly_standard as dibao_standard,
        d.per_capita_disposable_income as disposable_income,
        d.year as disposable_income_year,
        p.tekun_income_multiplier,
        p.tekun_elderly_age,
        p.tekun_child_age,
        p.dibao_asset_months,
        p.edge_asset_months,
        p.edge_max_vehicles,
        p.edge_max_extra_properties,
        p.edge_income_multiplier,
        p.rigid_expense_ratio,
        p.temp_medical_threshold,
        p.temp_months_of_standard,
        r.review_deadline_working_days,
        coalesce(v.registered_vehicle_count, 0) as registered_vehicle_count,
        coalesce(v.registered_extra_dwelling_count, 0) as registered_extra_dwelling_count,
        coalesce(v.registered_company_count, 0) as registered_company_count,
        coalesce(v.represents_company, false) as represents_company,
        greatest(c.vehicle_count, coalesce(v.registered_vehicle_count, 0)) as used_vehicle_count,
        greatest(c.extra_property_count, coalesce(v.registered_extra_dwelling_count, 0)) as used_extra_property_count,
        c.assets_declared and (
            coalesce(v.registered_vehicle_count, 0) > c.vehicle_count
            or coalesce(v.registered_extra_dwelling_count, 0) > c.extra_property_count
        ) as verification_discrepancy
    from combined as c
    left join counties as k on k.county_code = c.county_code
    left join parameters as p on p.county_code = coalesce(k.parameter_county_code, {{ province_county_code() }})
    left join review_days as r on r.county_code = coalesce(k.parameter_county_code, {{ province_county_code() }})
    left join standards as s
        on s.county_code = c.county_code
       and s.urban_rural = c.urban_rural
    left join disposable_incomes as d
        on d.county_code = c.county_code
       and d.urban_rural = c.urban_rural
    left join holdings as v on v.case_id = c.case_id
)

select * from final
