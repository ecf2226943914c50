-- The warning register (docs/outputs.md#the-published-mart): every warning this run or an earlier one raised, one row
-- each. Carried across runs through the previous run's register (exported from the ledger): the same episode is the
-- same warning (first raise date, deadline and first_run_date kept); answered by feedback → 已核查 (its figures
-- frozen as answered); trigger gone before it was checked → 已消除; unanswered past its deadline → 逾期, and so in
-- every later run until answered. A rule not evaluated this run (var `rules_not_evaluated`: its model could not be
-- built, docs/failure_policy.md) raises nothing, and its earlier warnings are carried forward unchanged: an open one
-- stays open (falling overdue past its deadline as usual), never 已消除 for want of evaluation.
{%- set not_evaluated = var('rules_not_evaluated', []) | map('upper') | list %}
with triggered as (
    select * from {{ ref('int_warnings_triggered') }}
),

previous as (
    select * from {{ ref('stg_state__previous_register') }}
),

feedback as (
    select * from {{ ref('stg_feedback__feedback') }}
),

working_days as (
    select * from {{ ref('int_working_days') }}
),

parameters as (
    select * from {{ ref('int_parameters_by_county') }}
),

rules as (
    select * from {{ ref('int_warning_rules') }}
),

run_day as (
    select working_day_number from working_days
    where calendar_date = {{ run_date() }}
),

new_deadlines as (
    select
        t.warning_id,
        min(w.calendar_date) as deadline
    from triggered as t
    inner join parameters as p on p.county_code = t.parameter_county_code
    cross join run_day as r
    inner join working_days as w
        on w.is_working_day
       and w.working_day_number = r.working_day_number + {{ deadline_days('t.level', 'p') }}
    group by t.warning_id
),

merged as (
    select
        coalesce(t.warning_id, p.warning_id) as warning_id,
        t.warning_id is not null as trigger_holds,
        p.warning_id is not null as was_registered,
        f.warning_id is not null or coalesce(p.status = '已核查', false) as is_answered,
        {%- if not_evaluated %}
        coalesce(p.rule_code in ('{{ not_evaluated | join("', '") }}'), false) as rule_not_evaluated,
        {%- else %}
        false as rule_not_evaluated,
        {%- endif %}
        t.rule_code as t_rule_code, p.rule_code as p_rule_code,
        t.sub_case as t_sub_case, p.sub_case as p_sub_case,
        t.level as t_level, p.level as p_level,
        t.subject_type as t_subject_type, p.subject_type as p_subject_type,
        t.subject as t_subject, p.subject as p_subject,
        t.household_id as t_household_id, p.household_id as p_household_id,
        t.person_key as t_person_key, p.person_key as p_person_key,
        t.households as t_households, p.households as p_households,
        t.episode as t_episode, p.episode as p_episode,
        t.county_code as t_county_code, p.county_code as p_county_code,
        t.township_code as t_township_code, p.township_code as p_township_code,
        t.evidence as t_evidence, p.evidence as p_evidence,
        t.trigger_amount as t_trigger_amount, p.trigger_amount as p_trigger_amount,
        p.raised_on as p_raised_on,
        p.deadline as p_deadline,
        p.status as p_status,
        p.first_run_date as p_first_run_date,
        p.last_run_date as p_last_run_date,
        d.deadline as new_deadline,
        coalesce(f.finding, p.finding) as finding,
        coalesce(f.action, p.action) as action,
        coalesce(f.checked_on, p.checked_on) as checked_on,
        coalesce(f.checked_by, p.checked_by) as checked_by,
        f.remark
    from triggered as t
    full outer join previous as p on p.warning_id = t.warning_id
    left join feedback as f on f.warning_id = coalesce(t.warning_id, p.warning_id)
    left join new_deadlines as d on d.warning_id = t.warning_id
),

resolved as (
    select
        merged.*,
        -- an answered warning keeps the figures staff answered; otherwise the latest figures
        not coalesce(is_answered and was_registered or not trigger_holds, false) as use_current,
        coalesce(p_raised_on, {{ run_date() }}) as raised_on,
        coalesce(p_deadline, new_deadline) as deadline,
        coalesce(p_first_run_date, {{ run_date() }}) as first_run_date,
        case when trigger_holds then {{ run_date() }} else p_last_run_date end as last_run_date
    from merged
),

final as (
    select
        r.warning_id,
        coalesce(r.t_rule_code, r.p_rule_code) as rule_code,
        coalesce(r.t_sub_case, r.p_sub_case) as sub_case,
        case when r.use_current then r.t_level else r.p_level end as level,
        k.family,
        coalesce(r.t_subject_type, r.p_subject_type) as subject_type,
        case when r.use_current then r.t_household_id else r.p_household_id end as household_id,
        coalesce(r.t_person_key, r.p_person_key) as person_key,
        case when r.use_current then r.t_households else r.p_households end as households,
        coalesce(r.t_episode, r.p_episode) as episode,
        case when r.use_current then r.t_county_code else r.p_county_code end as county_code,
        case when r.use_current then r.t_township_code else r.p_township_code end as township_code,
        case when r.use_current then r.t_evidence else r.p_evidence end as evidence,
        k.suggested_action,
        r.raised_on,
        r.deadline,
        case
            when r.is_answered then '已核查'
            when r.trigger_holds and {{ run_date() }} > r.deadline then '逾期'
            when r.trigger_holds then '待核查'
            when r.p_status = '逾期' then '逾期'
            when r.rule_not_evaluated and r.p_status = '待核查' and {{ run_date() }} > r.deadline then '逾期'
            when r.rule_not_evaluated then r.p_status
            else '已消除'
        end as status,
        r.finding,
        r.action,
        r.checked_on,
        r.checked_by,
        r.first_run_date,
        r.last_run_date,
        -- beyond docs/outputs.md#the-published-mart (added, nothing renamed)
        k.rule_name,
        coalesce(r.t_subject, r.p_subject) as subject,
        case when r.use_current then r.t_trigger_amount else r.p_trigger_amount end as trigger_amount,
        r.remark,
        {{ run_date() }} as run_date
    from resolved as r
    inner join rules as k
        on k.rule_code = coalesce(r.t_rule_code, r.p_rule_code)
       and coalesce(k.sub_case, '') = coalesce(r.t_sub_case, r.p_sub_case, '')
)

select * from final
