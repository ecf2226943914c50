{{ config(materialized='table') }}  {#- a table: its data tests would each recompute a view over the whole chain -#}
-- 重复救助 seen on the rosters and the assistance chain, per household: the W07 cases of this run, decided once in
-- int_warning_w07_duplicate_assistance (a: two or more in-force households; b: 低保金 and 特困供养金 for one month,
-- netted; c: a 特困 and a 低保 household, as c only), with the person's last 低保金 or 特困供养金 payment on the chain
-- for staff, and the warning of the register.
with duplicated as (
    select * from {{ ref('int_warning_w07_duplicate_assistance') }}
),

chain as (
    select * from {{ ref('fct_assistance_chain') }}
),

warnings as (
    select * from {{ ref('int_warnings_triggered') }}
    where rule_code = 'W07'
),

last_payments as (
    select
        person_key,
        max(event_date) as last_event_date
    from chain
    where source_dataset = 'mz_payment' and programme in ('低保金', '特困供养金')
    group by person_key
),

final as (
    select
        d.household_id,
        d.households,
        d.person_key,
        d.sub_case,
        case d.sub_case
            when 'a' then '多个在保家庭重复'
            when 'b' then '低保金与特困供养金重复发放'
            else '特困人员与最低生活保障重复'
        end as duplicated,
        d.episode,
        d.evidence,
        d.trigger_amount as amount,
        p.last_event_date as last_related_event_date,
        w.warning_id,
        {{ run_date() }} as run_date
    from duplicated as d
    left join last_payments as p on d.person_key = p.person_key
    left join warnings as w
        on
            d.person_key = w.person_key
            and d.sub_case = w.sub_case
            and d.episode = w.episode
)

select * from final
