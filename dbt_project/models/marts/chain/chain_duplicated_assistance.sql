{{ config(materialized='table') }}  {#- a table: its data tests would each recompute a view over the whole chain -#}
-- 重复救助 seen on the assistance chain and the rosters, per household (it agrees with W07 of the same run; a dbt
-- test checks it):
--   a. a person in two or more in-force households of the current roster;
--   b. a person paid both 低保金 and 特困供养金 for the same month on the chain (each netted per programme and month,
--      recoveries included, and > 0);
--   c. a person in both a 特困人员 and a 最低生活保障 household (reported as c only).
-- household_id is the lowest 家庭编号 involved; `households` lists all.
with members as (
    select * from {{ ref('int_monitored_members') }}
    where household_source = 'mz'
),

chain as (
    select * from {{ ref('fct_assistance_chain') }}
    where source_dataset = 'mz_payment' and programme in ('低保金', '特困供养金')
),

warnings as (
    select * from {{ ref('int_warnings_triggered') }}
    where rule_code = 'W07'
),

memberships as (
    select
        person_key,
        count(distinct household_id) as household_count,
        min(household_id) as household_id,
        {{ string_agg_sorted('household_id') }} as households,
        max(case when category = '特困人员' then 1 else 0 end) = 1 as in_tekun,
        max(case when category = '最低生活保障' then 1 else 0 end) = 1 as in_dibao
    from members
    group by person_key
),

duplicated_households as (
    select
        household_id,
        households,
        person_key,
        case when in_tekun and in_dibao then 'c' else 'a' end as sub_case,
        case when in_tekun and in_dibao then '特困人员与最低生活保障重复' else '多个在保家庭重复' end as duplicated,
        'households:' || households as episode,
        case
            when in_tekun and in_dibao then '同时为特困人员家庭与最低生活保障家庭的成员（' || households || '）'
            else '同时为 ' || cast(household_count as varchar) || ' 个在保家庭的成员（' || households || '）'
        end as evidence,
        cast(null as decimal(14, 2)) as amount
    from memberships
    where household_count >= 2 or (in_tekun and in_dibao)
),

monthly as (
    select person_key, programme, period, sum(amount) as net_amount
    from chain
    group by person_key, programme, period
),

both_paid as (
    select
        person_key,
        period,
        sum(case when programme = '低保金' then net_amount end) as dibao_amount,
        sum(case when programme = '特困供养金' then net_amount end) as tekun_amount
    from monthly
    where net_amount > 0
    group by person_key, period
    having count(distinct programme) = 2
),

payment_households as (
    select
        b.person_key,
        b.period,
        min(c.household_id) as household_id,
        {{ string_agg_sorted('c.household_id') }} as households
    from both_paid as b
    inner join chain as c
        on c.person_key = b.person_key
       and c.period = b.period
    group by b.person_key, b.period
),

duplicated_payments as (
    select
        h.household_id,
        h.households,
        b.person_key,
        'b' as sub_case,
        '低保金与特困供养金重复发放' as duplicated,
        'month:' || b.period as episode,
        b.period || ' 救助链上同时有低保金 ' || {{ fmt_yuan('b.dibao_amount') }} || ' 与特困供养金 '
            || {{ fmt_yuan('b.tekun_amount') }} || '（' || h.households || '）' as evidence,
        cast(b.dibao_amount + b.tekun_amount as decimal(14, 2)) as amount
    from both_paid as b
    inner join payment_households as h
        on h.person_key = b.person_key
       and h.period = b.period
),

duplicated as (
    select * from duplicated_households
    union all
    select * from duplicated_payments
),

final as (
    select
        d.household_id,
        d.households,
        d.person_key,
        d.sub_case,
        d.duplicated,
        d.episode,
        d.evidence,
        d.amount,
        w.warning_id,
        {{ run_date() }} as run_date
    from duplicated as d
    left join warnings as w
        on w.person_key = d.person_key
       and w.sub_case = d.sub_case
       and w.episode = d.episode
)

select * from final
