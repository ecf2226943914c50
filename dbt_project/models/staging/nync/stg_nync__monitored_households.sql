-- 防止返贫监测对象 (snapshot): every snapshot up to the run date, one row per 户编码 and cut-off.
with source as (
    {{ lake_rows(source('nync', 'nync_monitored')) }}
),

renamed as (
    select
        cast(rural_household_id as {{ dbt.type_string() }}) as rural_household_id,
        head_key,
        head_birth_date,
        head_sex,
        head_id_region,
        cast(region_code as {{ dbt.type_string() }}) as region_code,
        substr(region_code, 1, 6) as county_code,
        substr(region_code, 1, 9) as township_code,
        monitoring_type,
        identified_on,
        risk_status,
        cast(member_count as integer) as member_count,
        cast(income_per_capita as decimal(14, 2)) as income_per_capita,
        _cutoff as snapshot_cutoff,
        _seq,
        _data_row
    from source
),

one_per_key as (
    {{ latest_per_key('renamed', ['snapshot_cutoff', 'rural_household_id'], '_seq desc, _data_row desc') }}
),

final as (
    select
        rural_household_id,
        head_key,
        head_birth_date,
        head_sex,
        head_id_region,
        region_code,
        county_code,
        township_code,
        monitoring_type,
        identified_on,
        risk_status,
        member_count,
        income_per_capita,
        snapshot_cutoff,
        snapshot_cutoff = {{ current_cutoff('nync_monitored') }} as is_current_snapshot
    from one_per_key
)

select * from final
