-- W08 应享未享 (进入, 黄), for a member of a 特困人员/最低生活保障 household:
--   (a) holds a disability certificate 一级/二级, or 三级 智力/精神, and 享受重度残疾人护理补贴 ≠ 是 (empty counts);
--   (b) is aged w08_student_age_min–w08_student_age_max on the run date and has no student aid record for the
--       current school year while having one for the previous (the year changes on 1 September);
--   (c) has trailing-12-month 个人负担 ≥ w08_self_paid with 医疗救助支付 = 0 on all of those settlements.
-- Subject: the person; episode: the rule and sub-case (a, c) or the school year (b).
with memberships as (
    select m.*
    from {{ ref('int_monitored_members') }} as m
    where m.household_source = 'mz' and m.category in ('特困人员', '最低生活保障')
),

locations as (
    select * from {{ ref('int_household_locations') }}
),

parameters as (
    select * from {{ ref('int_parameters_by_county') }}
),

certificates as (
    select * from {{ ref('int_disability_certificates_current') }}
),

student_aid as (
    select * from {{ ref('int_student_aid_years') }}
),

medical as (
    select * from {{ ref('int_medical_person_12m') }}
),

persons as (
    select
        m.person_key,
        min(m.birth_date) as birth_date,
        min(m.household_id) as household_id,
        {{ string_agg_sorted('m.household_id') }} as households
    from memberships as m
    group by m.person_key
),

person_context as (
    select
        s.*,
        l.county_code,
        l.township_code,
        p.w08_student_age_min,
        p.w08_student_age_max,
        p.w08_self_paid
    from persons as s
    inner join locations as l on l.household_id = s.household_id
    inner join parameters as p on p.county_code = l.parameter_county_code
),

certificate_hits as (
    select
        c.person_key,
        min(d.disability_type || ' ' || d.disability_grade) as certificate
    from person_context as c
    inner join certificates as d on d.person_key = c.person_key
    where (d.disability_grade in ('一级', '二级')
           or (d.disability_grade = '三级' and d.disability_type in ('智力', '精神')))
      and coalesce(d.care_subsidy, '') <> '是'
    group by c.person_key
),

school_years as (
    select
        c.*,
        {{ age_on('c.birth_date', run_date()) }} as age,
        {{ school_year(run_date()) }} as current_year,
        {{ school_year(run_date(), -1) }} as previous_year
    from person_context as c
),

student_hits as (
    select y.*
    from school_years as y
    where y.age between y.w08_student_age_min and y.w08_student_age_max
      and exists (
          select 1 from student_aid as a
          where a.person_key = y.person_key and a.school_year = y.previous_year
      )
      and not exists (
          select 1 from student_aid as a
          where a.person_key = y.person_key and a.school_year = y.current_year
      )
),

medical_hits as (
    select c.*, m.self_paid_12m, m.window_start, m.window_end
    from person_context as c
    inner join medical as m on m.person_key = c.person_key
    where m.self_paid_12m >= c.w08_self_paid
      and m.no_medical_aid_12m
),

hits as (
    select
        'a' as sub_case,
        c.person_key, c.household_id, c.households, c.county_code, c.township_code,
        'W08a' as episode,
        '持残疾人证（' || h.certificate || '），未享受重度残疾人护理补贴' as evidence,
        cast(null as decimal(14, 2)) as trigger_amount
    from person_context as c
    inner join certificate_hits as h on h.person_key = c.person_key
    union all
    select
        'b' as sub_case,
        person_key, household_id, households, county_code, township_code,
        'year:' || current_year as episode,
        cast(age as {{ dbt.type_string() }}) || ' 周岁，' || previous_year || ' 学年有学生资助记录，' || current_year
            || ' 学年无学生资助记录' as evidence,
        cast(null as decimal(14, 2)) as trigger_amount
    from student_hits
    union all
    select
        'c' as sub_case,
        person_key, household_id, households, county_code, township_code,
        'W08c' as episode,
        '近12个月（' || {{ fmt_date('window_start') }} || '至' || {{ fmt_date('window_end') }} || '）个人负担 '
            || {{ fmt_yuan('self_paid_12m') }} || ' ≥ ' || {{ fmt_yuan('w08_self_paid') }}
            || '，医疗救助支付均为 0' as evidence,
        cast(self_paid_12m as decimal(14, 2)) as trigger_amount
    from medical_hits
),

final as (
    select
        'W08' as rule_code,
        sub_case,
        '黄' as level,
        'person' as subject_type,
        person_key as subject,
        household_id,
        person_key,
        households,
        episode,
        county_code,
        township_code,
        evidence,
        trigger_amount
    from hits
)

select * from final
