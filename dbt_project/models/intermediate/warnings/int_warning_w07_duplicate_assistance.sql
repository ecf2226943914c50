-- W07 重复救助 (拒止, 橙), for a person:
--   (a) a member of two or more in-force households of the current snapshot;
--   (b) paid both 低保金 and 特困供养金 for the same month (each netted per programme and month, > 0);
--   (c) in both a 特困人员 and a 最低生活保障 household (reported once, as (c), not also as (a)).
-- Subject: the person; episode: the households (a, c) or the payment month (b); dispatched to the lowest
-- 家庭编号 among the households it names.
with memberships as (
    select * from {{ ref('int_monitored_members') }}
    where household_source = 'mz'
),

payments as (
    select * from {{ ref('int_payments_net_monthly') }}
    where programme in ('低保金', '特困供养金') and net_amount > 0
),

payment_rows as (
    select person_key, programme, period, household_id
    from {{ ref('stg_mz__payments') }}
),

locations as (
    select * from {{ ref('int_household_locations') }}
),

per_person as (
    select
        person_key,
        count(distinct household_id) as household_count,
        {{ string_agg_sorted('household_id') }} as households,
        min(household_id) as household_id,
        max(case when category = '特困人员' then 1 else 0 end) as in_tekun,
        max(case when category = '最低生活保障' then 1 else 0 end) as in_dibao
    from memberships
    group by person_key
),

membership_hits as (
    select
        case when in_tekun = 1 and in_dibao = 1 then 'c' else 'a' end as sub_case,
        person_key,
        household_id,
        households,
        'households:' || households as episode,
        case
            when in_tekun = 1 and in_dibao = 1
                then '同时为特困人员家庭与最低生活保障家庭的成员（家庭编号 ' || households || '）'
            else '同时为 ' || cast(household_count as {{ dbt.type_string() }}) || ' 个在保家庭的成员（家庭编号 ' || households || '）'
        end as evidence,
        cast(null as decimal(14, 2)) as trigger_amount
    from per_person
    where household_count >= 2 or (in_tekun = 1 and in_dibao = 1)
),

double_paid as (
    select
        person_key,
        period,
        sum(case when programme = '低保金' then net_amount end) as dibao_amount,
        sum(case when programme = '特困供养金' then net_amount end) as tekun_amount
    from payments
    group by person_key, period
    having count(distinct programme) = 2
),

double_paid_households as (
    select
        d.person_key,
        d.period,
        min(r.household_id) as household_id,
        {{ string_agg_sorted('r.household_id') }} as households
    from double_paid as d
    inner join payment_rows as r
        on r.person_key = d.person_key
       and r.period = d.period
       and r.programme in ('低保金', '特困供养金')
    group by d.person_key, d.period
),

payment_hits as (
    select
        'b' as sub_case,
        d.person_key,
        h.household_id,
        h.households,
        'month:' || {{ fmt_month('d.period') }} as episode,
        {{ fmt_month('d.period') }} || ' 同时领取低保金 ' || {{ fmt_yuan('d.dibao_amount') }} || ' 与特困供养金 '
            || {{ fmt_yuan('d.tekun_amount') }} || '（家庭编号 ' || h.households || '）' as evidence,
        cast(d.dibao_amount + d.tekun_amount as decimal(14, 2)) as trigger_amount
    from double_paid as d
    inner join double_paid_households as h
        on h.person_key = d.person_key
       and h.period = d.period
),

hits as (
    select * from membership_hits
    union all
    select * from payment_hits
),

final as (
    select
        'W07' as rule_code,
        h.sub_case,
        '橙' as level,
        'person' as subject_type,
        h.person_key as subject,
        h.household_id,
        h.person_key,
        h.households,
        h.episode,
        l.county_code,
        l.township_code,
        h.evidence,
        h.trigger_amount
    from hits as h
    left join locations as l on l.household_id = h.household_id
)

select * from final
