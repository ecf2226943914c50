-- 社会保险缴费 (increment): the latest version of each (person, month, scheme).
with source as (
    {{ lake_rows(source('rsj', 'rsj_contribution')) }}
),

renamed as (
    select
        person_key,
        birth_date,
        id_region,
        cast(period as date) as period,
        scheme,
        cast(wage_base as decimal(14, 2)) as wage_base,
        employer,
        _cutoff,
        _seq,
        _data_row
    from source
),

latest as (
    {{ latest_per_key('renamed', ['person_key', 'period', 'scheme']) }}
),

final as (
    select
        person_key,
        birth_date,
        id_region,
        period,
        scheme,
        -- employee schemes (企业职工/机关事业) are the ones W03 and W05 read
        scheme in ('企业职工基本养老保险', '机关事业单位养老保险') as is_employee_scheme,
        wage_base,
        employer,
        _cutoff as delivered_cutoff
    from latest
)

select * from final
