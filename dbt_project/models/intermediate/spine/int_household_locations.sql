-- Where each household known to the platform lives (latest snapshot up to the run date that holds it), for
-- dispatching warnings about households that may have left the current roster (W02, W06).
with mz as (
    select household_id, region_code, county_code, township_code, snapshot_cutoff, 1 as source_rank
    from {{ ref('stg_mz__households') }}
),

nync as (
    select rural_household_id as household_id, region_code, county_code, township_code, snapshot_cutoff,
        2 as source_rank
    from {{ ref('stg_nync__monitored_households') }}
),

combined as (
    select * from mz
    union all
    select * from nync
),

latest as (
    {{ latest_per_key('combined', ['household_id'], 'snapshot_cutoff desc, source_rank') }}
),

counties as (
    select * from {{ ref('int_counties') }}
),

final as (
    select
        l.household_id,
        l.region_code,
        l.county_code,
        l.township_code,
        coalesce(k.parameter_county_code, {{ province_county_code() }}) as parameter_county_code
    from latest as l
    left join counties as k on k.county_code = l.county_code
)

select * from final
