-- The dibao standard S in force on the run date, by county and 城市/农村.
with standards as (
    select * from {{ ref('stg_reference__dibao_standards') }}
    where effective_from <= {{ run_date() }}
),

latest as (
    {{ latest_per_key('standards', ['county_code', 'urban_rural'], 'effective_from desc') }}
),

final as (
    select county_code, urban_rural, effective_from, monthly_standard
    from latest
)

select * from final
