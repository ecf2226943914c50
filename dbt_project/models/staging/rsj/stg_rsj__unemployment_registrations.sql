-- 失业登记 (increment): the latest version of each registration (a later delivery may close it).
with source as (
    {{ lake_rows(source('rsj', 'rsj_unemployment')) }}
),

renamed as (
    select
        cast(registration_id as {{ dbt.type_string() }}) as registration_id,
        person_key,
        birth_date,
        id_region,
        registered_on,
        closed_on,
        close_reason,
        receives_benefit,
        _cutoff,
        _seq,
        _data_row
    from source
),

latest as (
    {{ latest_per_key('renamed', ['registration_id']) }}
),

final as (
    select
        registration_id,
        person_key,
        birth_date,
        id_region,
        registered_on,
        closed_on,
        close_reason,
        receives_benefit,
        _cutoff as delivered_cutoff
    from latest
)

select * from final
