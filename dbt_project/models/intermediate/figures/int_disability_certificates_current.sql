-- Disability certificates of the snapshot in force at the run date.
with certificates as (
    select * from {{ ref('stg_cl__disability_certificates') }}
    where is_current_snapshot
),

final as (
    select
        certificate_key,
        person_key,
        disability_type,
        disability_grade,
        issued_on,
        living_subsidy,
        care_subsidy,
        snapshot_cutoff
    from certificates
)

select * from final
