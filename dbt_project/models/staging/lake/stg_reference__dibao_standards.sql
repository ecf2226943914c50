-- dibao_standard.csv as in effect for this run: S by county and 城市/农村, from a date on.
with source as (
    select * from {{ source('reference', 'dibao_standard') }}
),

renamed as (
    select
        cast(county_code as {{ dbt.type_string() }}) as county_code,
        urban_rural,
        cast(effective_from as date) as effective_from,
        cast(monthly_standard as decimal(14, 2)) as monthly_standard
    from source
),

final as (
    select * from renamed
)

select * from final
