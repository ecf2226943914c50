-- Townships listed in regions.csv (optional rows): 9-digit code and kind (街道, 镇, 乡, or 乡镇 for either of those two).
with source as (
    select * from {{ source('reference', 'regions') }}
),

renamed as (
    select
        cast(county_code as {{ dbt.type_string() }}) as county_code,
        cast(township_code as {{ dbt.type_string() }}) as township_code,
        township_kind
    from source
),

final as (
    select distinct county_code, township_code, township_kind
    from renamed
    where township_code is not null and township_code <> ''
)

select * from final
