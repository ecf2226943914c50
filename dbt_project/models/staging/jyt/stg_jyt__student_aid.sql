-- 学生资助 (increment): the latest version of each aid record.
with source as (
    {{ lake_rows(source('jyt', 'jyt_student_aid')) }}
),

renamed as (
    select
        cast(aid_id as {{ dbt.type_string() }}) as aid_id,
        person_key,
        birth_date,
        id_region,
        stage,
        school,
        aid_type,
        cast(amount as decimal(14, 2)) as amount,
        trim(school_year) as school_year,
        _cutoff,
        _seq,
        _data_row
    from source
),

latest as (
    {{ latest_per_key('renamed', ['aid_id']) }}
),

final as (
    select
        aid_id,
        person_key,
        birth_date,
        id_region,
        stage,
        school,
        aid_type,
        amount,
        school_year,
        _cutoff as delivered_cutoff
    from latest
)

select * from final
