-- regions.csv as in effect for this run: one row per county (townships, when given, in stg_reference__townships).
with source as (
    select * from {{ source('reference', 'regions') }}
),

renamed as (
    select
        cast(city_code as {{ dbt.type_string() }}) as city_code,
        city_name,
        cast(county_code as {{ dbt.type_string() }}) as county_code,
        county_name
    from source
),

final as (
    select distinct city_code, city_name, county_code, county_name
    from renamed
)

select * from final
