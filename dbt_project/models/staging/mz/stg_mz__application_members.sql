-- 认定申请家庭成员 (increment): the latest version of each (application, person).
with source as (
    {{ lake_rows(source('mz', 'mz_application_member')) }}
),

renamed as (
    select
        cast(application_id as {{ dbt.type_string() }}) as application_id,
        person_key,
        birth_date,
        sex,
        id_region,
        relation,
        labour_capacity,
        health,
        disability_type,
        disability_grade,
        has_supporter,
        supporter_capable,
        _cutoff,
        _seq,
        _data_row
    from source
),

latest as (
    {{ latest_per_key('renamed', ['application_id', 'person_key']) }}
),

final as (
    select
        application_id,
        person_key,
        birth_date,
        sex,
        id_region,
        relation,
        labour_capacity,
        health,
        disability_type,
        disability_grade,
        has_supporter,
        supporter_capable,
        _cutoff as delivered_cutoff
    from latest
)

select * from final
