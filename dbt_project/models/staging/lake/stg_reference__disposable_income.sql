-- disposable_income.csv as in effect for this run: D by county, 城市/农村 and year.
with source as (
    select * from {{ source('reference', 'disposable_income') }}
),

renamed as (
    select
        cast(county_code as {{ dbt.type_string() }}) as county_code,
        urban_rural,
        cast(year as integer) as year,
        cast(per_capita_disposable_income as decimal(14, 2)) as per_capita_disposable_income
    from source
),

final as (
    select * from renamed
)

select * from final
