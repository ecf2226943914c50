{{ config(
    materialized=history_materialization(),
    incremental_strategy='delete+insert',
    unique_key='snapshot_cutoff',
) }}
-- 低收入人口家庭名册 (snapshot): every snapshot up to the run date, one row per household and cut-off;
-- `is_current_snapshot` marks the one in force at the run date.
with source as (
    {{ lake_rows(source('mz', 'mz_household')) }}
    {%- if is_incremental() %}
      -- a monthly build: the new cut-offs and the one in force until now (docs/incremental.md)
      and _cutoff >= {{ latest_built_cutoff() }}
    {%- endif %}
),

renamed as (
    select
        cast(household_id as {{ dbt.type_string() }}) as household_id,
        cast(region_code as {{ dbt.type_string() }}) as region_code,
        substr(region_code, 1, 6) as county_code,
        substr(region_code, 1, 9) as township_code,
        urban_rural,
        head_key,
        head_birth_date,
        head_sex,
        head_id_region,
        category,
        coalesce(status, '在保') as status,
        recognised_on,
        exited_on,
        cast(member_count as integer) as member_count,
        cast(annual_income as decimal(14, 2)) as annual_income,
        cast(monthly_benefit as decimal(14, 2)) as monthly_benefit,
        _cutoff as snapshot_cutoff,
        _seq,
        _data_row
    from source
),

one_per_key as (
    {{ latest_per_key('renamed', ['snapshot_cutoff', 'household_id'], '_seq desc, _data_row desc') }}
),

final as (
    select
        household_id,
        region_code,
        county_code,
        township_code,
        urban_rural,
        head_key,
        head_birth_date,
        head_sex,
        head_id_region,
        category,
        status,
        status = '在保' as is_in_force,
        recognised_on,
        exited_on,
        member_count,
        annual_income,
        monthly_benefit,
        snapshot_cutoff,
        snapshot_cutoff = {{ current_cutoff('mz_household') }} as is_current_snapshot
    from one_per_key
)

select * from final
