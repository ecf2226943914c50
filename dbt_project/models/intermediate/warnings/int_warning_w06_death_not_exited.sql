-- W06 死亡未退 (拒止, 红): a payment of 低保金, 特困供养金 or 残疾人两项补贴 to a person for a month whose first day is
-- after death date + w06_grace_months calendar months; payments net per (person, programme, month) and a month
-- netting ≤ 0 raises nothing. Subject: the person; episode: the payment month; dispatched to the lowest 家庭编号
-- among the households the payments name.
with deaths as (
    select * from {{ ref('int_deaths') }}
),

payments as (
    select * from {{ ref('int_payments_net_monthly') }}
    where programme in ('低保金', '特困供养金', '残疾人两项补贴')
      and net_amount > 0
),

payment_rows as (
    select person_key, programme, period, household_id
    from {{ ref('stg_mz__payments') }}
),

locations as (
    select * from {{ ref('int_household_locations') }}
),

parameters as (
    select * from {{ ref('int_parameters_by_county') }}
),

candidates as (
    select
        p.person_key,
        p.programme,
        p.period,
        p.net_amount,
        d.died_on
    from payments as p
    inner join deaths as d on d.person_key = p.person_key
    where p.period > d.died_on
),

candidate_households as (
    select distinct c.person_key, c.period, r.household_id
    from candidates as c
    inner join payment_rows as r
        on r.person_key = c.person_key
       and r.programme = c.programme
       and r.period = c.period
),

dispatch as (
    select
        person_key,
        period,
        min(household_id) as household_id,
        {{ string_agg_sorted('household_id') }} as households
    from candidate_households
    group by person_key, period
),

assessed as (
    select
        c.person_key,
        c.programme,
        c.period,
        c.net_amount,
        c.died_on,
        x.household_id,
        x.households,
        l.county_code,
        l.township_code,
        p.w06_grace_months
    from candidates as c
    inner join dispatch as x
        on x.person_key = c.person_key
       and x.period = c.period
    left join locations as l on l.household_id = x.household_id
    inner join parameters as p
        on p.county_code = coalesce(l.parameter_county_code, {{ province_county_code() }})
    where c.period > {{ add_months('c.died_on', 'p.w06_grace_months') }}
),

hits as (
    select
        person_key,
        period,
        died_on,
        household_id,
        households,
        county_code,
        township_code,
        {{ string_agg_ordered("programme || ' ' || " ~ fmt_yuan('net_amount'), '、', 'programme') }} as paid,
        sum(net_amount) as net_amount
    from assessed
    group by person_key, period, died_on, household_id, households, county_code, township_code
),

final as (
    select
        'W06' as rule_code,
        cast(null as {{ dbt.type_string() }}) as sub_case,
        '红' as level,
        'person' as subject_type,
        person_key as subject,
        household_id,
        person_key,
        households,
        'month:' || {{ fmt_month('period') }} as episode,
        county_code,
        township_code,
        '死亡日期 ' || {{ fmt_date('died_on') }} || '，' || {{ fmt_month('period') }} || ' 仍发放 ' || paid
            || '（家庭编号 ' || households || '）' as evidence,
        cast(net_amount as decimal(14, 2)) as trigger_amount
    from hits
)

select * from final
