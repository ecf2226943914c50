-- 受灾人员救助 (increment): the latest version of each relief record.
with source as (
    {{ lake_rows(source('yjj', 'yjj_disaster')) }}
),

renamed as (
    select
        cast(relief_id as {{ dbt.type_string() }}) as relief_id,
        hazard,
        occurred_on,
        head_key,
        head_birth_date,
        head_id_region,
        cast(region_code as {{ dbt.type_string() }}) as region_code,
        substr(region_code, 1, 6) as county_code,
        substr(region_code, 1, 9) as township_code,
        cast(people_affected as integer) as people_affected,
        house_damage,
        cast(loss as decimal(14, 2)) as loss,
        cast(coalesce(relief_paid, 0) as decimal(14, 2)) as relief_paid,
        _cutoff,
        _seq,
        _data_row
    from source
),

latest as (
    {{ latest_per_key('renamed', ['relief_id']) }}
),

final as (
    select
        relief_id,
        hazard,
        occurred_on,
        head_key,
        head_birth_date,
        head_id_region,
        region_code,
        county_code,
        township_code,
        people_affected,
        house_damage,
        loss,
        relief_paid,
        _cutoff as delivered_cutoff
    from latest
)

select * from final
