-- Identification (认定) results (docs/outputs.md#the-published-mart): one row per application of mz_application (the
-- latest version of each) and per household leaving 特困/低保 between two consecutive snapshots (退出复核), decided at
-- the run date, with its trace (a JSON array, in Chinese: see fct_identification_trace for one row per entry) and
-- the review deadline: review_deadline_working_days working days after 申请日期 (the date itself not counted), and
-- the 核对 of declared assets against the vehicle, real-estate and business registers (docs/verification.md).
with cases as (
    select * from {{ ref('int_identification_cases') }}
),

decisions as (
    select * from {{ ref('int_identification_decisions') }}
),

plan as (
    select * from {{ ref('int_identification_review_plan') }}
),

trace as (
    select * from {{ ref('fct_identification_trace') }}
),

working_days as (
    select * from {{ ref('int_working_days') }}
),

trace_json as (
    select
        case_id,
        '[' || {{ string_agg_ordered(
            trace_entry_json('entry_seq', 'category', 'test_name', 'figures', 'passed'), ',', 'entry_seq'
        ) }} || ']' as trace,
        count(*) as trace_entries
    from trace
    group by case_id
),

scopes as (
    select case_id, {{ string_agg_ordered('category', ' → ', 'review_order') }} as review_scope
    from plan
    group by case_id
),

run_day as (
    select working_day_number from working_days
    where calendar_date = {{ run_date() }}
),

deadlines as (
    select
        c.case_id,
        d.calendar_date as deadline,
        r.working_day_number - a.working_day_number as working_days_elapsed
    from cases as c
    inner join working_days as a on a.calendar_date = c.applied_on
    cross join run_day as r
    left join working_days as d
        on d.is_working_day
       and d.working_day_number = a.working_day_number + c.review_deadline_working_days
),

final as (
    select
        c.application_id,
        c.household_id,
        c.review_kind,
        d.result_category,
        d.individual_cover_keys,
        d.temp_assistance_amount,
        t.trace,
        c.applied_on,
        l.deadline,
        coalesce({{ run_date() }} > l.deadline, false) as overdue,
        c.from_cutoff,
        c.to_cutoff,
        c.previous_category,
        -- the 核对 (docs/verification.md): registered figures at the case's date, 是/否 flags
        c.registered_vehicle_count,
        c.registered_extra_dwelling_count,
        case when c.represents_company then '是' else '否' end as represents_company,
        case when c.verification_discrepancy then '是' else '否' end as verification_discrepancy,
        -- beyond docs/outputs.md#the-published-mart (added, nothing renamed)
        c.case_id,
        c.figures_cutoff,
        c.exit_reason,
        c.previous_household_id,
        c.requested_category,
        c.consent,
        c.origin,
        coalesce(s.review_scope, '') as review_scope,
        c.county_code,
        c.township_code,
        c.urban_rural,
        c.member_count,
        c.annual_income,
        c.dibao_standard,
        c.disposable_income,
        d.individual_cover_applies,
        d.temp_assistance_recommended,
        d.warning_ids as w02_w04_warning_ids,
        t.trace_entries,
        c.review_deadline_working_days,
        case when c.applied_on is not null then {{ days_between('c.applied_on', run_date()) }} end as days_elapsed,
        l.working_days_elapsed,
        -- no decision date is delivered: every application is open at the run date; exit reviews have no deadline
        c.applied_on is not null as is_open,
        {{ run_date() }} as run_date
    from cases as c
    inner join decisions as d on d.case_id = c.case_id
    left join trace_json as t on t.case_id = c.case_id
    left join scopes as s on s.case_id = c.case_id
    left join deadlines as l on l.case_id = c.case_id
)

select * from final
