-- 住房救助保障 (increment): the latest version of each record.
with source as (
    {{ lake_rows(source('zjt', 'zjt_housing_aid')) }}
),

renamed as (
    select
        cast(record_id as {{ dbt.type_string() }}) as record_id,
        person_key,
        birth_date,
        id_region,
        aid_type,
        cast(amount as decimal(14, 2)) as amount,
        starts_on,
        ends_on,
        _cutoff,
        _seq,
        _data_row
    from source
),

latest as (
    {{ latest_per_key('renamed', ['record_id']) }}
),

final as (
    select
        record_id,
        person_key,
        birth_date,
        id_region,
        aid_type,
        amount,
        starts_on,
        ends_on,
        _cutoff as delivered_cutoff
    from latest
)

select * from final
