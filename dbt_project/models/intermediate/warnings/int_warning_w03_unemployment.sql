-- W03 收入不稳·失业 (进入): a working-age member of a monitored household
--   (a) has an open unemployment registration that began in the last w03_registration_months months, or
--   (b) had employee-scheme contributions in ≥ w03_min_contribution_months of the w03_lookback_months months
--       before a gap of the w03_gap_months latest months (the run month and the ones before) with none.
-- 黄; 橙 when the member was the household's only contributor (employee contributions in the lookback months
-- before the event month, and no other member had any). Subject: the household; episode: the registration / gap.
with households as (
    select * from {{ ref('int_monitored_households') }}
),

members as (
    select * from {{ ref('int_monitored_members') }}
),

registrations as (
    select * from {{ ref('int_unemployment_registrations') }}
),

contribution_months as (
    select * from {{ ref('int_employee_contribution_months') }}
),

parameters as (
    select * from {{ ref('int_parameters_by_county') }}
),

member_context as (
    select
        m.household_id,
        m.person_key,
        m.birth_date,
        h.county_code,
        h.township_code,
        p.working_age_min,
        p.working_age_max,
        p.w03_registration_months,
        p.w03_lookback_months,
        p.w03_min_contribution_months,
        p.w03_gap_months
    from members as m
    inner join households as h on h.household_id = m.household_id
    inner join parameters as p on p.county_code = h.parameter_county_code
),

registration_events as (
    select
        c.*,
        'a' as sub_case,
        r.registration_id,
        r.registered_on,
        {{ month_start('r.registered_on') }} as event_month,
        {{ age_on('c.birth_date', 'r.registered_on') }} as age_at_event,
        cast(null as integer) as reference_months
    from member_context as c
    inner join registrations as r on r.person_key = c.person_key
    where r.is_open_on_run_date
      and r.registered_on > {{ add_months(run_date(), '-c.w03_registration_months') }}
      and r.registered_on <= {{ run_date() }}
),

gap_windows as (
    select
        c.*,
        {{ add_months(run_month(), '1 - c.w03_gap_months') }} as gap_start
    from member_context as c
),

gap_counts as (
    select
        g.household_id,
        g.person_key,
        count(distinct case when m.period < g.gap_start
                             and m.period >= {{ add_months('g.gap_start', '-g.w03_lookback_months') }}
                            then m.period end) as reference_months,
        count(distinct case when m.period >= g.gap_start and m.period <= {{ run_month() }}
                            then m.period end) as gap_months_with_contributions
    from gap_windows as g
    inner join contribution_months as m on m.person_key = g.person_key
    group by g.household_id, g.person_key
),

gap_events as (
    select
        g.*,
        'b' as sub_case,
        cast(null as {{ dbt.type_string() }}) as registration_id,
        cast(null as date) as registered_on,
        g.gap_start as event_month,
        {{ age_on('g.birth_date', 'g.gap_start') }} as age_at_event,
        n.reference_months
    from gap_windows as g
    inner join gap_counts as n
        on n.household_id = g.household_id
       and n.person_key = g.person_key
    where n.reference_months >= g.w03_min_contribution_months
      and n.gap_months_with_contributions = 0
),

events as (
    select
        household_id, person_key, county_code, township_code, working_age_min, working_age_max,
        w03_lookback_months, w03_gap_months, sub_case, registration_id, registered_on, event_month,
        age_at_event, reference_months
    from registration_events
    union all
    select
        household_id, person_key, county_code, township_code, working_age_min, working_age_max,
        w03_lookback_months, w03_gap_months, sub_case, registration_id, registered_on, event_month,
        age_at_event, reference_months
    from gap_events
),

working_age_events as (
    select *
    from events
    where age_at_event between working_age_min and working_age_max
),

-- who in the household had employee contributions in the lookback months before the event month
contributors as (
    select
        e.household_id,
        e.person_key,
        e.sub_case,
        e.event_month,
        max(case when o.person_key = e.person_key then 1 else 0 end) as member_contributed,
        max(case when o.person_key <> e.person_key then 1 else 0 end) as others_contributed
    from working_age_events as e
    inner join members as o on o.household_id = e.household_id
    inner join contribution_months as m
        on m.person_key = o.person_key
       and m.period < e.event_month
       and m.period >= {{ add_months('e.event_month', '-e.w03_lookback_months') }}
    group by e.household_id, e.person_key, e.sub_case, e.event_month
),

hits as (
    select
        e.*,
        coalesce(c.member_contributed = 1 and c.others_contributed = 0, false) as is_only_contributor
    from working_age_events as e
    left join contributors as c
        on c.household_id = e.household_id
       and c.person_key = e.person_key
       and c.sub_case = e.sub_case
       and c.event_month = e.event_month
),

final as (
    select
        'W03' as rule_code,
        sub_case,
        case when is_only_contributor then '橙' else '黄' end as level,
        'household' as subject_type,
        household_id as subject,
        household_id,
        person_key,
        cast(null as {{ dbt.type_string() }}) as households,
        case
            when sub_case = 'a' then 'registration:' || registration_id
            else 'gap:' || person_key || ':' || {{ fmt_month('event_month') }}
        end as episode,
        county_code,
        township_code,
        case
            when sub_case = 'a' then
                '家庭成员（' || cast(age_at_event as {{ dbt.type_string() }}) || ' 周岁）于 ' || {{ fmt_date('registered_on') }}
                || ' 办理失业登记（登记编号 ' || registration_id || '），至 ' || {{ fmt_date(run_date()) }} || ' 未注销'
            else
                '家庭成员（' || cast(age_at_event as {{ dbt.type_string() }}) || ' 周岁）在 '
                || {{ fmt_month(add_months('event_month', '-w03_lookback_months')) }} || ' 至 '
                || {{ fmt_month(add_months('event_month', -1)) }}
                || ' 有 ' || cast(reference_months as {{ dbt.type_string() }})
                || ' 个月职工社保缴费，' || {{ fmt_month('event_month') }} || ' 至 ' || {{ fmt_month(run_month()) }}
                || ' 无缴费'
        end
        || case when is_only_contributor then '；为家庭唯一职工社保缴费人' else '' end as evidence,
        cast(null as decimal(14, 2)) as trigger_amount
    from hits
)

select * from final
