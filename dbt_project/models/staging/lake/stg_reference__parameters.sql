-- Rule parameters resolved at the run date for each county (and 370000 for the province).
with source as (
    select * from {{ source('reference', 'parameters') }}
),

renamed as (
    select
        cast(county_code as {{ dbt.type_string() }}) as county_code,
        cast(parameter as {{ dbt.type_string() }}) as parameter,
        cast(value as decimal(18, 6)) as value
    from source
),

final as (
    select * from renamed
)

select * from final
