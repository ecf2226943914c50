-- Every person monitored at the run date, one row per (household, person): the members of in-force
-- civil-affairs households of the current snapshot, and the heads of 防返贫 households (one-person).
with households as (
    select * from {{ ref('int_monitored_households') }}
),

mz_members as (
    select * from {{ ref('int_mz_snapshot_members') }}
    where is_current_snapshot and is_in_force
),

nync_heads as (
    select * from {{ ref('stg_nync__monitored_households') }}
    where is_current_snapshot
),

civil_affairs as (
    select
        m.household_id,
        m.person_key,
        m.is_head,
        m.birth_date,
        m.relation,
        m.labour_capacity,
        m.health
    from mz_members as m
    inner join households as h
        on h.household_id = m.household_id
       and h.household_source = 'mz'
),

rural_monitoring as (
    select
        h.household_id,
        h.head_key as person_key,
        true as is_head,
        n.head_birth_date as birth_date,
        '户主' as relation,
        cast(null as {{ dbt.type_string() }}) as labour_capacity,
        cast(null as {{ dbt.type_string() }}) as health
    from households as h
    inner join nync_heads as n on n.rural_household_id = h.household_id
    where h.household_source = 'nync'
),

combined as (
    select * from civil_affairs
    union all
    select * from rural_monitoring
),

final as (
    select
        c.household_id,
        h.household_source,
        h.category,
        c.person_key,
        c.is_head,
        c.birth_date,
        c.relation,
        c.labour_capacity,
        c.health
    from combined as c
    inner join households as h on h.household_id = c.household_id
)

select * from final
