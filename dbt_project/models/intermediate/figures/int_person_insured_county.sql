-- The county of each person's most recent claim that names a 参保地 (by 结算日期, then 结算编号): D01 dispatch.
with claims as (
    select person_key, settled_on, settlement_id, substr(insured_region, 1, 6) as insured_county_code
    from {{ ref('stg_ybj__settlements') }}
    where insured_region is not null and insured_region <> ''
),

latest as (
    {{ latest_per_key('claims', ['person_key'], 'settled_on desc, settlement_id desc') }}
),

final as (
    select person_key, insured_county_code, settled_on as insured_claim_on, settlement_id as insured_claim_id
    from latest
)

select * from final
