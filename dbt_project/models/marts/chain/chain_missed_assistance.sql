{{ config(materialized='table') }}  {#- a table: its data tests would each recompute a view over the whole chain -#}
-- 应享未享 seen on the assistance chain, per household: for each member of a 特困人员/最低生活保障 household, the
-- policy the chain shows missing (it agrees with W08 of the same run; a dbt test checks it):
--   a. a disability certificate 一级/二级, or 三级 智力/精神, without 享受重度残疾人护理补贴 (empty counts as not);
--   b. aged w08_student_age_min–max on the run date, with student aid on the chain for the previous school year and
--      none for the current one;
--   c. trailing-12-month 个人负担 ≥ w08_self_paid and no 医疗救助支付 on any of those settlements.
-- household_id is the lowest 家庭编号 holding the person; `households` lists all; the last related chain event is
-- shown for staff.
with members as (
    select * from {{ ref('int_monitored_members') }}
    where household_source = 'mz' and category in ('特困人员', '最低生活保障')
),

households as (
    select * from {{ ref('int_monitored_households') }}
),

parameters as (
    select * from {{ ref('int_parameters_by_county') }}
),

chain as (
    select * from {{ ref('fct_assistance_chain') }}
),

certificates as (
    select * from {{ ref('int_disability_certificates_current') }}
),

medical as (
    select * from {{ ref('int_medical_person_12m') }}
),

warnings as (
    select * from {{ ref('int_warnings_triggered') }}
    where rule_code = 'W08'
),

persons as (
    select
        m.person_key,
        min(m.birth_date) as birth_date,
        min(m.household_id) as household_id,
        {{ string_agg_sorted('m.household_id') }} as households
    from members as m
    group by m.person_key
),

person_context as (
    select
        s.*,
        {{ age_on('s.birth_date', run_date()) }} as age,
        {{ school_year(run_date()) }} as current_year,
        {{ school_year(run_date(), -1) }} as previous_year,
        p.w08_student_age_min,
        p.w08_student_age_max,
        p.w08_self_paid
    from persons as s
    inner join households as h on h.household_id = s.household_id
    inner join parameters as p on p.county_code = h.parameter_county_code
),

person_events as (
    select distinct person_key, event_date, event_kind, period, description, event_id
    from chain
    where person_key is not null
),

missed_care as (
    select
        c.person_key,
        'a' as sub_case,
        '残疾人两项补贴' as missed_policy,
        'W08a' as episode,
        '持残疾人证（' || min(d.disability_type || '残疾' || d.disability_grade) || '），救助链上无享受重度残疾人护理补贴'
            as evidence
    from person_context as c
    inner join certificates as d on d.person_key = c.person_key
    where (d.disability_grade in ('一级', '二级') or (d.disability_grade = '三级' and d.disability_type in ('智力', '精神')))
      and coalesce(d.care_subsidy, '') <> '是'
    group by c.person_key
),

student_years as (
    select
        c.person_key,
        c.age,
        c.previous_year,
        c.current_year,
        max(case when e.period = c.previous_year then 1 else 0 end) as aided_previous,
        max(case when e.period = c.current_year then 1 else 0 end) as aided_current
    from person_context as c
    inner join person_events as e
        on e.person_key = c.person_key
       and e.event_kind = '教育救助'
    where c.age between c.w08_student_age_min and c.w08_student_age_max
    group by c.person_key, c.age, c.previous_year, c.current_year
),

missed_school as (
    select
        person_key,
        'b' as sub_case,
        '教育救助' as missed_policy,
        'year:' || current_year as episode,
        cast(age as varchar) || ' 周岁，救助链上有 ' || previous_year || ' 学年学生资助，无 ' || current_year
            || ' 学年学生资助' as evidence
    from student_years
    where aided_previous = 1 and aided_current = 0
),

missed_medical as (
    select
        c.person_key,
        'c' as sub_case,
        '医疗救助' as missed_policy,
        'W08c' as episode,
        '近12个月个人负担 ' || {{ fmt_yuan('m.self_paid_12m') }} || ' ≥ ' || {{ fmt_yuan('c.w08_self_paid') }}
            || '，救助链上这期间无医疗救助支付' as evidence
    from person_context as c
    inner join medical as m on m.person_key = c.person_key
    where m.self_paid_12m >= c.w08_self_paid
      and m.no_medical_aid_12m
),

missed as (
    select * from missed_care
    union all
    select * from missed_school
    union all
    select * from missed_medical
),

last_related as (
    select
        m.person_key,
        m.sub_case,
        max(e.event_date) as last_event_date
    from missed as m
    inner join person_events as e
        on e.person_key = m.person_key
       and e.event_kind like case m.sub_case
           when 'a' then '%护理补贴'
           when 'b' then '教育救助'
           else '医疗救助'
       end
    group by m.person_key, m.sub_case
),

final as (
    select
        c.household_id,
        c.households,
        m.person_key,
        m.sub_case,
        m.missed_policy,
        m.episode,
        m.evidence,
        l.last_event_date as last_related_event_date,
        w.warning_id,
        {{ run_date() }} as run_date
    from missed as m
    inner join person_context as c on c.person_key = m.person_key
    left join last_related as l
        on l.person_key = m.person_key
       and l.sub_case = m.sub_case
    left join warnings as w
        on w.person_key = m.person_key
       and w.sub_case = m.sub_case
       and w.episode = m.episode
)

select * from final
