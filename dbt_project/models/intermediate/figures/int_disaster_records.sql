-- Disaster relief records (latest version of each), with the house-damage flag both W04 and D02 read.
with records as (
    select * from {{ ref('stg_yjj__disaster_reliefs') }}
),

counties as (
    select * from {{ ref('int_counties') }}
),

final as (
    select
        r.relief_id,
        r.hazard,
        r.occurred_on,
        r.head_key,
        r.head_birth_date,
        r.region_code,
        r.county_code,
        r.township_code,
        r.people_affected,
        r.house_damage,
        r.house_damage in ('倒塌', '严重损坏') as is_house_destroyed,
        r.loss,
        r.relief_paid,
        coalesce(k.parameter_county_code, {{ province_county_code() }}) as parameter_county_code
    from records as r
    left join counties as k on k.county_code = r.county_code
)

select * from final
