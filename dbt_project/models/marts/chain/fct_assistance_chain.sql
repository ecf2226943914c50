-- 一户（人）一条救助链 (docs/rules.md#the-assistance-chain-一户人一条救助链): every event the platform knows, in time order, per
-- household and per person. An event that names its household (a roster change, a payment, a household warning) stays
-- with it; a person's other events join the households holding the person in the roster in force on the event date (one
-- row per such household), or, when no roster in force then lists them, in the roster nearest in time that does; a
-- person in no roster at all has the event in their own chain only. Roster changes
-- are household events (person_key empty): a person's full chain is their rows plus the household rows of their
-- households. `household_event_seq` orders a household's chain, `person_event_seq` a person's (an event attached to
-- two households keeps one number).
with events as (
    select * from {{ ref('int_chain_events') }}
),

memberships as (
    select * from {{ ref('int_chain_memberships') }}
),

person_events as (
    select * from events
    where household_id is null and person_key is not null
),

in_force as (
    select e.event_id, m.household_id
    from person_events as e
    inner join memberships as m
        on m.person_key = e.person_key
       and e.event_date >= m.valid_from
       and e.event_date < m.valid_to
),

-- a person in no roster on the event date (before they joined one, or after they left): the households of the
-- roster nearest in time that lists them
nearest as (
    select event_id, household_id
    from (
        select
            e.event_id,
            m.household_id,
            dense_rank() over (
                partition by e.event_id
                order by abs({{ days_between('m.snapshot_cutoff', 'e.event_date') }}), m.snapshot_cutoff desc
            ) as distance_rank
        from person_events as e
        inner join memberships as m on m.person_key = e.person_key
        where not exists (
            select 1 from in_force as f
            where f.event_id = e.event_id
        )
    ) as ranked
    where distance_rank = 1
),

person_households as (
    select * from in_force
    union
    select * from nearest
),

attached as (
    select e.*, e.household_id as chain_household_id
    from events as e
    where e.household_id is not null or e.person_key is null
    union all
    select e.*, h.household_id as chain_household_id
    from person_events as e
    left join person_households as h on h.event_id = e.event_id
),

one_per_household as (
    select distinct
        event_id, event_date, chain_household_id, person_key, source_department, source_dataset, event_kind,
        category, programme, period, amount, description, reference_id, kind_order
    from attached
),

final as (
    select
        chain_household_id as household_id,
        person_key,
        event_date,
        case
            when chain_household_id is not null then row_number() over (
                partition by chain_household_id order by event_date, kind_order, event_id
            )
        end as household_event_seq,
        case
            when person_key is not null then dense_rank() over (
                partition by person_key order by event_date, kind_order, event_id
            )
        end as person_event_seq,
        source_department,
        source_dataset,
        event_kind,
        category,
        programme,
        period,
        amount,
        description,
        reference_id,
        event_id,
        {{ run_date() }} as run_date
    from one_per_household
)

select * from final
