-- Cases one of whose people belongs to a household with a W02 or W04 warning raised in this run
-- (docs/rules.md#identification-认定, 临时救助 during review): membership as in the roster in force at the run date (any
-- status: W02 fires whatever the household's status), and the heads of monitored 防返贫 households.
with case_members as (
    select * from {{ ref('int_identification_case_members') }}
),

warnings as (
    select * from {{ ref('fct_warnings') }}
    where rule_code in ('W02', 'W04')
      and raised_on = {{ run_date() }}
),

snapshot_members as (
    select * from {{ ref('int_mz_snapshot_members') }}
),

memberships as (
    select household_id, person_key
    from snapshot_members
    where is_current_snapshot
    union
    select household_id, person_key from {{ ref('int_monitored_members') }}
),

warned_people as (
    select w.warning_id, w.rule_code, m.person_key
    from warnings as w
    inner join memberships as m on m.household_id = w.household_id
),

final as (
    select
        c.case_id,
        {{ string_agg_sorted('p.rule_code', '、') }} as warning_rules,
        {{ string_agg_sorted('p.warning_id') }} as warning_ids
    from case_members as c
    inner join warned_people as p on p.person_key = c.person_key
    group by c.case_id
)

select * from final
