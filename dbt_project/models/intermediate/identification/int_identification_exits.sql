-- Households leaving 特困/低保 between two consecutive mz_household snapshots (docs/rules.md#identification-认定): in force
-- with 特困人员 or 最低生活保障 at one cut-off, and at the next one absent, 停保/退出, or in a category outside those two
-- (moving between 特困 and 低保 is not leaving) — except where the household ended with its last member's death
-- (every member of the earlier roster, head included, has died by the later cut-off).
-- One row per (household, pair of snapshots). The review asks whether the household as it is now qualifies, so its
-- figures come from the latest snapshot that shows it (`figures_cutoff`): the later one when the household is still
-- listed (停保/退出 or another category), the earlier one only when it is absent.
with households as (
    select * from {{ ref('stg_mz__households') }}
),

snapshot_members as (
    select * from {{ ref('int_mz_snapshot_members') }}
),

deaths as (
    select * from {{ ref('int_deaths') }}
),

cutoffs as (
    select
        snapshot_cutoff,
        lead(snapshot_cutoff) over (order by snapshot_cutoff) as next_cutoff
    from (select distinct snapshot_cutoff from households) as distinct_cutoffs
),

left_assistance as (
    select
        f.household_id,
        c.snapshot_cutoff as from_cutoff,
        c.next_cutoff as to_cutoff,
        f.category as previous_category,
        case when t.household_id is null then c.snapshot_cutoff else c.next_cutoff end as figures_cutoff,
        case
            when t.household_id is null then '下一期名册（' || {{ fmt_date('c.next_cutoff') }} || '）中不再有该户'
            when not t.is_in_force then '下一期名册（' || {{ fmt_date('c.next_cutoff') }} || '）保障状态为' || t.status
            else '下一期名册（' || {{ fmt_date('c.next_cutoff') }} || '）救助类别变为' || t.category
        end as exit_reason
    from households as f
    inner join cutoffs as c on c.snapshot_cutoff = f.snapshot_cutoff
    left join households as t
        on t.household_id = f.household_id
       and t.snapshot_cutoff = c.next_cutoff
    where c.next_cutoff is not null
      and f.is_in_force
      and f.category in ('特困人员', '最低生活保障')
      and (t.household_id is null or not t.is_in_force or t.category not in ('特困人员', '最低生活保障'))
),

roster_deaths as (
    select
        l.household_id,
        l.from_cutoff,
        count(*) as members,
        count(d.person_key) as members_dead
    from left_assistance as l
    inner join snapshot_members as m
        on m.household_id = l.household_id
       and m.snapshot_cutoff = l.from_cutoff
    left join deaths as d
        on d.person_key = m.person_key
       and d.died_on <= l.to_cutoff
    group by l.household_id, l.from_cutoff
),

final as (
    select
        l.household_id,
        l.from_cutoff,
        l.to_cutoff,
        l.previous_category,
        l.figures_cutoff,
        l.exit_reason,
        r.members as members_before
    from left_assistance as l
    inner join roster_deaths as r
        on r.household_id = l.household_id
       and r.from_cutoff = l.from_cutoff
    where r.members_dead < r.members
)

select * from final
