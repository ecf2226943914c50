-- Every vehicle of every 机动车登记 snapshot, with the period in which that snapshot is the latest one: from its
-- cut-off up to the next in-use snapshot's cut-off (exclusive; open for the latest). A person's vehicles on a date T
-- are the rows whose period holds T (docs/verification.md: the latest snapshot with cut-off ≤ T); they are counted when
-- 机动车状态 is 正常, 初次登记日期 ≤ T and the type is not 摩托车, 低速货车 or 残疾人专用车 (`is_countable` holds the
-- first and last conditions; the date one depends on T).
with vehicles as (
    select * from {{ ref('stg_gaj__vehicles') }}
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
        where dataset = 'gaj_vehicle'
    ) as cutoffs
),

final as (
    select
        v.vin,
        v.owner_key,
        v.vehicle_type,
        v.first_registered_on,
        v.status,
        v.status = '正常' and v.vehicle_type not in ('摩托车', '低速货车', '残疾人专用车') as is_countable,
        v.snapshot_cutoff as valid_from,
        s.next_cutoff as valid_to
    from vehicles as v
    inner join snapshots as s on s.snapshot_cutoff = v.snapshot_cutoff
)

select * from final
