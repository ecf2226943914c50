-- Shandong's counties (regions.csv) with the county whose parameters apply: itself when the parameters
-- have it, else the province.
with counties as (
    select * from {{ ref('stg_reference__regions') }}
),

parameters as (
    select county_code from {{ ref('int_parameters_by_county') }}
),

final as (
    select
        c.county_code,
        c.county_name,
        c.city_code,
        c.city_name,
        coalesce(p.county_code, {{ province_county_code() }}) as parameter_county_code
    from counties as c
    left join parameters as p on p.county_code = c.county_code
)

select * from final
