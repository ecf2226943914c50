-- Every business of every 市场主体登记 snapshot, with the period in which that snapshot is the latest one (as
-- int_vehicle_periods). A person's businesses on a date T are the rows whose period holds T, whose representative is
-- the person, 登记状态 存续 and 成立日期 ≤ T (docs/verification.md); `is_company` marks 有限责任公司, 股份有限公司, 个人独资企业
-- and 合伙企业.
with businesses as (
    select * from {{ ref('stg_scjg__businesses') }}
),

deliveries as (
    select * from {{ ref('stg_lake__deliveries') }}
),

snapshots as (
    select
        cutoff_date as snapshot_cutoff,
        lead(cutoff_date) over (order by cutoff_date) as next_cutoff
    from (
        select distinct cutoff_date
        from deliveries
        where dataset = 'scjg_business'
    ) as cutoffs
),

final as (
    select
        b.credit_code,
        b.rep_key,
        b.entity_type,
        b.is_company,
        coalesce(b.registered_capital, 0) as registered_capital,
        b.established_on,
        b.status,
        b.status = '存续' as is_active,
        b.snapshot_cutoff as valid_from,
        s.next_cutoff as valid_to
    from businesses as b
    inner join snapshots as s on s.snapshot_cutoff = b.snapshot_cutoff
)

select * from final
