-- 低收入人口认定申请 (increment): the latest version of each application.
with source as (
    {{ lake_rows(source('mz', 'mz_application')) }}
),

renamed as (
    select
        cast(application_id as {{ dbt.type_string() }}) as application_id,
        applied_on,
        cast(region_code as {{ dbt.type_string() }}) as region_code,
        substr(region_code, 1, 6) as county_code,
        substr(region_code, 1, 9) as township_code,
        urban_rural,
        applicant_key,
        applicant_birth_date,
        applicant_sex,
        applicant_id_region,
        requested_category,
        consent,
        coalesce(origin, '新申请') as origin,
        previous_household_id,
        cast(member_count as integer) as member_count,
        cast(annual_income as decimal(14, 2)) as annual_income,
        cast(financial_assets as decimal(14, 2)) as financial_assets,
        cast(vehicle_count as integer) as vehicle_count,
        cast(extra_property_count as integer) as extra_property_count,
        cast(coalesce(medical_expense_12m, 0) as decimal(14, 2)) as medical_expense_12m,
        cast(coalesce(education_expense_12m, 0) as decimal(14, 2)) as education_expense_12m,
        _cutoff,
        _seq,
        _data_row
    from source
),

latest as (
    {{ latest_per_key('renamed', ['application_id']) }}
),

final as (
    select
        application_id,
        applied_on,
        region_code,
        county_code,
        township_code,
        urban_rural,
        applicant_key,
        applicant_birth_date,
        applicant_sex,
        applicant_id_region,
        requested_category,
        consent,
        origin,
        previous_household_id,
        member_count,
        annual_income,
        financial_assets,
        vehicle_count,
        extra_property_count,
        medical_expense_12m,
        education_expense_12m,
        _cutoff as delivered_cutoff
    from latest
)

select * from final
