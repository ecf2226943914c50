-- 死亡医学证明 (increment): the latest version of each certificate.
with source as (
    {{ lake_rows(source('wjw', 'wjw_death')) }}
),

renamed as (
    select
        cast(certificate_id as {{ dbt.type_string() }}) as certificate_id,
        person_key,
        birth_date,
        sex,
        id_region,
        died_on,
        cause,
        _cutoff,
        _seq,
        _data_row
    from source
),

latest as (
    {{ latest_per_key('renamed', ['certificate_id']) }}
),

final as (
    select
        certificate_id,
        person_key,
        birth_date,
        sex,
        id_region,
        died_on,
        cause,
        _cutoff as delivered_cutoff
    from latest
)

select * from final
