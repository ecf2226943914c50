-- 不动产登记 (increment): the latest version of each (登记业务号, 权利人): a joint registration has a row per holder.
-- The unit number is a key only: it groups a unit's registrations and never leaves the warehouse.
with source as (
    {{ lake_rows(source('zrzy', 'zrzy_property')) }}
),

renamed as (
    select
        cast(registration_id as {{ dbt.type_string() }}) as registration_id,
        cast(unit_id as {{ dbt.type_string() }}) as unit_id,
        holder_key,
        registration_type,
        use,
        cast(floor_area as decimal(14, 2)) as floor_area,
        registered_on,
        _cutoff,
        _seq,
        _data_row
    from source
),

latest as (
    {{ latest_per_key('renamed', ['registration_id', 'holder_key']) }}
),

final as (
    select
        registration_id,
        unit_id,
        holder_key,
        registration_type,
        use,
        floor_area,
        registered_on,
        _cutoff as delivered_cutoff
    from latest
)

select * from final
