{{ config(
    materialized=history_materialization(),
    incremental_strategy='delete+insert',
    unique_key='snapshot_cutoff',
) }}
-- Civil-affairs membership in every snapshot up to the run date: a household's members are its mz_member
-- rows plus its head (docs/rules.md#who-is-monitored). Member snapshots are paired with household snapshots by cut-off
-- (the latest member cut-off at or before the household's, else the earliest); a member row whose household is
-- not in that household snapshot is dropped.
with households as (
    select * from {{ ref('stg_mz__households') }}
    {%- if is_incremental() %}
    -- a monthly build: the new household cut-offs and the one in force until now (docs/incremental.md)
    where snapshot_cutoff >= {{ latest_built_cutoff() }}
    {%- endif %}
),

members as (
    select * from {{ ref('stg_mz__members') }}
),

household_cutoffs as (
    select distinct snapshot_cutoff from households
),

-- every member cut-off, also on a monthly build: a new household snapshot may pair with an earlier one
member_cutoffs as (
    select distinct snapshot_cutoff from members
),

pairing as (
    select
        h.snapshot_cutoff as household_cutoff,
        coalesce(
            max(case when m.snapshot_cutoff <= h.snapshot_cutoff then m.snapshot_cutoff end),
            min(m.snapshot_cutoff)
        ) as member_cutoff
    from household_cutoffs as h
    cross join member_cutoffs as m
    group by h.snapshot_cutoff
),

member_rows as (
    select
        p.household_cutoff as snapshot_cutoff,
        m.household_id,
        m.person_key,
        m.birth_date,
        m.relation,
        m.labour_capacity,
        m.health,
        m.individual_cover
    from members as m
    inner join pairing as p on p.member_cutoff = m.snapshot_cutoff
),

head_rows as (
    select
        snapshot_cutoff,
        household_id,
        head_key as person_key,
        head_birth_date as birth_date,
        '户主' as relation,
        cast(null as {{ dbt.type_string() }}) as labour_capacity,
        cast(null as {{ dbt.type_string() }}) as health,
        cast(null as {{ dbt.type_string() }}) as individual_cover
    from households
),

-- member rows are unique per (cut-off, household, person) and a household has one head per snapshot, so the
-- head is added only where the roster lacks him (an anti-join: no window over tens of millions of rows)
one_per_person as (
    select * from member_rows
    union all
    select * from head_rows as h
    where not exists (
        select 1
        from member_rows as m
        where m.snapshot_cutoff = h.snapshot_cutoff
          and m.household_id = h.household_id
          and m.person_key = h.person_key
    )
),

final as (
    select
        o.snapshot_cutoff,
        o.household_id,
        o.person_key,
        o.person_key = h.head_key as is_head,
        o.birth_date,
        o.relation,
        o.labour_capacity,
        o.health,
        o.individual_cover,
        h.category,
        h.status,
        h.is_in_force,
        h.is_current_snapshot,
        count(*) over (partition by o.snapshot_cutoff, o.household_id) as members_in_snapshot
    from one_per_person as o
    inner join households as h
        on h.snapshot_cutoff = o.snapshot_cutoff
       and h.household_id = o.household_id
)

select * from final
