{{ config(
    materialized=history_materialization(),
    incremental_strategy='delete+insert',
    unique_key='snapshot_cutoff',
) }}
{#- one key column (every source's rows of a rebuilt cut-off are rebuilt): the delete is then a semi-join -#}
-- Who belonged to which household when, for attaching a person's events to their household's chain: each roster
-- snapshot is in force from its cut-off to the next one of the same source (the first also before it, the last
-- also after it), as docs/rules.md#who-is-monitored reads membership "in force on" a date. Civil-affairs rosters
-- (members plus head, whatever the status) and 防返贫 rosters (the head, keyed by 户编码) each have their own cut-offs.
{% set rebuilt = is_incremental() %}
with mz as (
    select distinct household_id, person_key, snapshot_cutoff, 'mz' as household_source
    from {{ ref('int_mz_snapshot_members') }}
    {%- if rebuilt %}
    where snapshot_cutoff >= {{ earliest_latest_cutoff() }}
    {%- endif %}
),

nync as (
    select distinct
        rural_household_id as household_id,
        head_key as person_key,
        snapshot_cutoff,
        'nync' as household_source
    from {{ ref('stg_nync__monitored_households') }}
    {%- if rebuilt %}
    where snapshot_cutoff >= {{ earliest_latest_cutoff() }}
    {%- endif %}
),

rosters as (
    select * from mz
    union all
    select * from nync
),

-- every cut-off of each source, also on a monthly build (which rebuilds the new ones and the latest of each source
-- before them, whose `valid_to` a new one ends: docs/incremental.md)
all_cutoffs as (
    select distinct 'mz' as household_source, snapshot_cutoff from {{ ref('int_mz_snapshot_members') }}
    union all
    select distinct 'nync' as household_source, snapshot_cutoff from {{ ref('stg_nync__monitored_households') }}
),

cutoffs as (
    select
        household_source,
        snapshot_cutoff,
        lead(snapshot_cutoff) over (partition by household_source order by snapshot_cutoff) as next_cutoff,
        row_number() over (partition by household_source order by snapshot_cutoff) = 1 as is_first
    from all_cutoffs
),

final as (
    select
        r.household_source,
        r.household_id,
        r.person_key,
        r.snapshot_cutoff,
        case when c.is_first then cast('0001-01-01' as date) else c.snapshot_cutoff end as valid_from,
        coalesce(c.next_cutoff, cast('9999-12-31' as date)) as valid_to
    from rosters as r
    inner join cutoffs as c
        on c.household_source = r.household_source
       and c.snapshot_cutoff = r.snapshot_cutoff
)

select * from final
