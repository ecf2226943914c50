-- 机动车登记 (snapshot): every snapshot up to the run date, one row per vehicle (车辆识别代号) and cut-off. The VIN is
-- a key only: it orders a household's vehicles and never leaves the warehouse (docs/verification.md).
with source as (
    {{ lake_rows(source('gaj', 'gaj_vehicle')) }}
),

renamed as (
    select
        cast(vin as {{ dbt.type_string() }}) as vin,
        owner_key,
        owner_birth_date,
        vehicle_type,
        first_registered_on,
        status,
        use,
        _cutoff as snapshot_cutoff,
        _seq,
        _data_row
    from source
),

one_per_key as (
    {{ latest_per_key('renamed', ['snapshot_cutoff', 'vin'], '_seq desc, _data_row desc') }}
),

final as (
    select
        vin,
        owner_key,
        owner_birth_date,
        vehicle_type,
        first_registered_on,
        status,
        use,
        snapshot_cutoff,
        snapshot_cutoff = {{ current_cutoff('gaj_vehicle') }} as is_current_snapshot
    from one_per_key
)

select * from final
