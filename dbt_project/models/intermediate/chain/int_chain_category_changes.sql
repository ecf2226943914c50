-- Category changes between consecutive roster snapshots, one row per household and change
-- (docs/rules.md#the-assistance-chain-一户人一条救助链): 纳入 (in force now, not in force or absent in the snapshot before, or
-- the first snapshot), 类别变更 (in force in both with another 救助类别), 退出 (in force before, now 停保/退出 or absent).
-- Civil-affairs rosters by 家庭编号; a 防返贫 household by 户编码: 纳入监测 when first listed 未消除, 风险消除 when it turns 已消除 or leaves
-- the roster. Each change is one event per household and cut-off, so a household that leaves and comes back (absent
-- from one roster, or back on 低保 after 退出) gets a 纳入救助 of its own, described as 重新纳入.
with households as (
    select * from {{ ref('stg_mz__households') }}
),

first_in_force as (
    select household_id, min(snapshot_cutoff) as first_cutoff
    from households
    where is_in_force
    group by household_id
),

mz_cutoffs as (
    select
        snapshot_cutoff,
        lag(snapshot_cutoff) over (order by snapshot_cutoff) as previous_cutoff
    from (select distinct snapshot_cutoff from households) as distinct_cutoffs
),

-- every household listed in a snapshot or in the one before it, for each snapshot
mz_keys as (
    select c.snapshot_cutoff, c.previous_cutoff, h.household_id
    from mz_cutoffs as c
    inner join households as h on h.snapshot_cutoff = c.snapshot_cutoff
    union
    select c.snapshot_cutoff, c.previous_cutoff, h.household_id
    from mz_cutoffs as c
    inner join households as h on h.snapshot_cutoff = c.previous_cutoff
),

mz_pairs as (
    select
        k.snapshot_cutoff,
        k.previous_cutoff,
        k.household_id,
        coalesce(n.is_in_force, false) as in_force_now,
        coalesce(p.is_in_force, false) as in_force_before,
        n.category as category_now,
        p.category as category_before,
        n.status as status_now,
        n.recognised_on,
        n.exited_on,
        n.household_id is not null as listed_now,
        coalesce(f.first_cutoff < k.snapshot_cutoff, false) as in_force_earlier
    from mz_keys as k
    left join households as n
        on n.snapshot_cutoff = k.snapshot_cutoff
       and n.household_id = k.household_id
    left join households as p
        on p.snapshot_cutoff = k.previous_cutoff
       and p.household_id = k.household_id
    left join first_in_force as f on f.household_id = k.household_id
),

mz_changes as (
    select
        household_id,
        'mz_household' as source_dataset,
        case
            when in_force_now and not in_force_before then '纳入救助'
            when in_force_now and in_force_before and category_now <> category_before then '类别变更'
            when in_force_before and not in_force_now then '退出救助'
        end as event_kind,
        case
            when in_force_now and not in_force_before
                and recognised_on <= snapshot_cutoff
                and (previous_cutoff is null or recognised_on > previous_cutoff)
                then recognised_on
            when in_force_before and not in_force_now
                and exited_on <= snapshot_cutoff
                and (previous_cutoff is null or exited_on > previous_cutoff)
                then exited_on
            else snapshot_cutoff
        end as event_date,
        coalesce(category_now, category_before) as category,
        case
            when in_force_now and not in_force_before
                then case when in_force_earlier then '重新纳入' else '纳入' end || category_now
                    || '（认定日期 ' || coalesce({{ fmt_date('recognised_on') }}, '—')
                    || '，' || {{ fmt_date('snapshot_cutoff') }} || ' 名册）'
            when in_force_now and in_force_before and category_now <> category_before
                then '救助类别由' || category_before || '变更为' || category_now || '（' || {{ fmt_date('snapshot_cutoff') }}
                    || ' 名册）'
            when not listed_now
                then '退出' || category_before || '：' || {{ fmt_date('snapshot_cutoff') }} || ' 名册中不再有该户'
            else '退出' || category_before || '：保障状态为' || status_now
                || coalesce('，退出日期 ' || {{ fmt_date('exited_on') }}, '') || '（' || {{ fmt_date('snapshot_cutoff') }}
                || ' 名册）'
        end as description,
        snapshot_cutoff
    from mz_pairs
),

rural as (
    select * from {{ ref('stg_nync__monitored_households') }}
),

rural_cutoffs as (
    select
        snapshot_cutoff,
        lag(snapshot_cutoff) over (order by snapshot_cutoff) as previous_cutoff
    from (select distinct snapshot_cutoff from rural) as distinct_cutoffs
),

rural_keys as (
    select c.snapshot_cutoff, c.previous_cutoff, r.rural_household_id as household_id
    from rural_cutoffs as c
    inner join rural as r on r.snapshot_cutoff = c.snapshot_cutoff
    union
    select c.snapshot_cutoff, c.previous_cutoff, r.rural_household_id as household_id
    from rural_cutoffs as c
    inner join rural as r on r.snapshot_cutoff = c.previous_cutoff
),

rural_pairs as (
    select
        k.snapshot_cutoff,
        k.previous_cutoff,
        k.household_id,
        coalesce(n.risk_status = '未消除', false) as monitored_now,
        coalesce(p.risk_status = '未消除', false) as monitored_before,
        n.rural_household_id is not null as listed_now,
        n.monitoring_type,
        n.identified_on
    from rural_keys as k
    left join rural as n
        on n.snapshot_cutoff = k.snapshot_cutoff
       and n.rural_household_id = k.household_id
    left join rural as p
        on p.snapshot_cutoff = k.previous_cutoff
       and p.rural_household_id = k.household_id
),

rural_changes as (
    select
        household_id,
        'nync_monitored' as source_dataset,
        case when monitored_now then '纳入监测' else '风险消除' end as event_kind,
        case
            when monitored_now and identified_on <= snapshot_cutoff
                and (previous_cutoff is null or identified_on > previous_cutoff)
                then identified_on
            else snapshot_cutoff
        end as event_date,
        '防止返贫监测对象' as category,
        case
            when monitored_now
                then '纳入防止返贫监测（' || monitoring_type || '，识别日期 ' || {{ fmt_date('identified_on') }} || '）'
            when listed_now then '防止返贫监测风险已消除（' || {{ fmt_date('snapshot_cutoff') }} || ' 名册）'
            else '防止返贫监测：' || {{ fmt_date('snapshot_cutoff') }} || ' 名册中不再有该户'
        end as description,
        snapshot_cutoff
    from rural_pairs
    where monitored_now <> monitored_before
),

final as (
    select * from mz_changes
    where event_kind is not null
    union all
    select * from rural_changes
)

select * from final
