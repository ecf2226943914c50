-- 持证残疾人 (snapshot): every snapshot up to the run date, one row per certificate and cut-off.
with source as (
    {{ lake_rows(source('cl', 'cl_disability')) }}
),

renamed as (
    select
        certificate_key,
        person_key,
        birth_date,
        sex,
        id_region,
        disability_type,
        disability_grade,
        issued_on,
        living_subsidy,
        care_subsidy,
        _cutoff as snapshot_cutoff,
        _seq,
        _data_row
    from source
),

one_per_key as (
    {{ latest_per_key('renamed', ['snapshot_cutoff', 'certificate_key'], '_seq desc, _data_row desc') }}
),

final as (
    select
        certificate_key,
        person_key,
        birth_date,
        sex,
        id_region,
        disability_type,
        disability_grade,
        issued_on,
        living_subsidy,
        care_subsidy,
        snapshot_cutoff,
        snapshot_cutoff = {{ current_cutoff('cl_disability') }} as is_current_snapshot
    from one_per_key
)

select * from final
