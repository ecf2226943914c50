{{ config(materialized='table') }}  {#- a table: its data tests would each recompute a view over the whole chain -#}
-- 应享未享 seen on the assistance chain, per household: the W08 cases of this run, decided once in
-- int_warning_w08_missed_entitlement (a: a certificate without 重度残疾人护理补贴; b: student aid last school year, none
-- this year; c: 12-month 个人负担 ≥ w08_self_paid without 医疗救助), with the policy missed, the person's last related
-- event on the chain for staff, and the warning of the register.
with missed as (
    select * from {{ ref('int_warning_w08_missed_entitlement') }}
),

chain as (
    select * from {{ ref('fct_assistance_chain') }}
),

warnings as (
    select * from {{ ref('int_warnings_triggered') }}
    where rule_code = 'W08'
),

person_events as (
    select distinct
        person_key,
        event_date,
        event_kind
    from chain
    where person_key is not null
),

last_related as (
    select
        m.person_key,
        m.sub_case,
        max(e.event_date) as last_event_date
    from missed as m
    inner join person_events as e
        on
            e.person_key = m.person_key
            and e.event_kind like case m.sub_case
                when 'a' then '%护理补贴'
                when 'b' then '教育救助'
                else '医疗救助'
            end
    group by m.person_key, m.sub_case
),

final as (
    select
        m.household_id,
        m.households,
        m.person_key,
        m.sub_case,
        case m.sub_case
            when 'a' then '残疾人两项补贴'
            when 'b' then '教育救助'
            else '医疗救助'
        end as missed_policy,
        m.episode,
        m.evidence,
        l.last_event_date as last_related_event_date,
        w.warning_id,
        {{ run_date() }} as run_date
    from missed as m
    left join last_related as l
        on
            m.person_key = l.person_key
            and m.sub_case = l.sub_case
    left join warnings as w
        on
            m.person_key = w.person_key
            and m.sub_case = w.sub_case
            and m.episode = w.episode
)

select * from final
