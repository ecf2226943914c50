{{ config(
    materialized=history_materialization(),
    incremental_strategy='delete+insert',
    unique_key='snapshot_cutoff',
) }}
-- 低收入人口家庭成员 (snapshot): every snapshot up to the run date, one row per (household, person, cut-off).
with source as (
    {{ lake_rows(source('mz', 'mz_member')) }}
    {%- if is_incremental() %}
      -- a monthly build: the new cut-offs and the one in force until now (docs/incremental.md)
      and _cutoff >= {{ latest_built_cutoff() }}
    {%- endif %}
),

renamed as (
    select
        cast(household_id as {{ dbt.type_string() }}) as household_id,
        person_key,
        birth_date,
        sex,
        id_region,
        relation,
        labour_capacity,
        health,
        coalesce(individual_cover, '否') as individual_cover,
        _cutoff as snapshot_cutoff,
        _seq,
        _data_row
    from source
),

one_per_key as (
    {{ latest_per_key('renamed', ['snapshot_cutoff', 'household_id', 'person_key'], '_seq desc, _data_row desc') }}
),

final as (
    select
        household_id,
        person_key,
        birth_date,
        sex,
        id_region,
        relation,
        labour_capacity,
        health,
        individual_cover,
        snapshot_cutoff,
        snapshot_cutoff = {{ current_cutoff('mz_member') }} as is_current_snapshot
    from one_per_key
)

select * from final
