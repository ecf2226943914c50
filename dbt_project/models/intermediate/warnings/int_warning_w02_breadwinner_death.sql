-- W02 收入骤减·主要劳动力死亡 (进入, 红): a working-age member with 劳动能力 = 有劳动能力 of a household in force
-- in the snapshot in force on the death date (the latest with cut-off ≤ death date, or the earliest if the
-- death precedes all) dies — whatever the household's status now, unless the deceased was its only member
-- in that snapshot. Subject: the household; episode: the deceased.
with deaths as (
    select * from {{ ref('int_deaths') }}
),

snapshot_members as (
    select * from {{ ref('int_mz_snapshot_members') }}
),

locations as (
    select * from {{ ref('int_household_locations') }}
),

parameters as (
    select * from {{ ref('int_parameters_by_county') }}
),

snapshot_cutoffs as (
    select distinct snapshot_cutoff from snapshot_members
),

death_snapshot as (
    select
        d.person_key,
        d.died_on,
        d.death_source,
        coalesce(
            max(case when s.snapshot_cutoff <= d.died_on then s.snapshot_cutoff end),
            min(s.snapshot_cutoff)
        ) as snapshot_cutoff
    from deaths as d
    cross join snapshot_cutoffs as s
    group by d.person_key, d.died_on, d.death_source
),

memberships as (
    select
        d.person_key,
        d.died_on,
        d.death_source,
        d.snapshot_cutoff,
        m.household_id,
        m.labour_capacity,
        m.members_in_snapshot,
        {{ age_on('m.birth_date', 'd.died_on') }} as age_at_death
    from death_snapshot as d
    inner join snapshot_members as m
        on m.snapshot_cutoff = d.snapshot_cutoff
       and m.person_key = d.person_key
    where m.is_in_force
),

hits as (
    select
        ms.*,
        l.county_code,
        l.township_code
    from memberships as ms
    inner join locations as l on l.household_id = ms.household_id
    inner join parameters as p on p.county_code = l.parameter_county_code
    where ms.labour_capacity = '有劳动能力'
      and ms.age_at_death between p.working_age_min and p.working_age_max
      and ms.members_in_snapshot > 1
),

final as (
    select
        'W02' as rule_code,
        cast(null as {{ dbt.type_string() }}) as sub_case,
        '红' as level,
        'household' as subject_type,
        household_id as subject,
        household_id,
        person_key,
        cast(null as {{ dbt.type_string() }}) as households,
        'death:' || person_key as episode,
        county_code,
        township_code,
        '家庭成员于 ' || {{ fmt_date('died_on') }} || ' 死亡（'
            || case when death_source = 'wjw_death' then '死亡医学证明' else '殡葬火化信息' end
            || '），死亡时 ' || cast(age_at_death as {{ dbt.type_string() }}) || ' 周岁，劳动能力：有劳动能力（'
            || {{ fmt_date('snapshot_cutoff') }} || ' 名册，家庭成员 ' || cast(members_in_snapshot as {{ dbt.type_string() }})
            || ' 人）' as evidence,
        cast(null as decimal(14, 2)) as trigger_amount
    from hits
)

select * from final
