-- 殡葬火化信息 (increment): the latest version of each cremation record.
with source as (
    {{ lake_rows(source('mz', 'mz_cremation')) }}
),

renamed as (
    select
        cast(cremation_id as {{ dbt.type_string() }}) as cremation_id,
        person_key,
        birth_date,
        sex,
        id_region,
        died_on,
        cremated_on,
        funeral_home,
        _cutoff,
        _seq,
        _data_row
    from source
),

latest as (
    {{ latest_per_key('renamed', ['cremation_id']) }}
),

final as (
    select
        cremation_id,
        person_key,
        birth_date,
        sex,
        id_region,
        died_on,
        cremated_on,
        funeral_home,
        _cutoff as delivered_cutoff
    from latest
)

select * from final
