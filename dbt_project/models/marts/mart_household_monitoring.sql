-- One row per monitored household at the run date: who and where it is, what it lives on, the latest figure
-- behind every rule, and its open warnings — what an analyst asks first.
with households as (
    select * from {{ ref('int_monitored_households') }}
),

members as (
    select * from {{ ref('int_monitored_members') }}
),

parameters as (
    select * from {{ ref('int_parameters_by_county') }}
),

medical as (
    select * from {{ ref('int_household_medical_12m') }}
),

wages as (
    select * from {{ ref('int_household_wage_income') }}
),

deaths as (
    select * from {{ ref('int_deaths') }}
),

registrations as (
    select * from {{ ref('int_unemployment_registrations') }}
),

disasters as (
    select * from {{ ref('int_disaster_records') }}
),

warnings as (
    select * from {{ ref('fct_warnings') }}
),

-- the 核对 registers at the run date (docs/verification.md); a car bought while assisted was first registered
-- after the household's 认定日期 (civil-affairs households)
recognitions as (
    select household_id, recognised_on from {{ ref('stg_mz__households') }}
    where is_current_snapshot
),

vehicles as (
    select
        v.household_id,
        count(distinct v.vin) as registered_vehicle_count,
        count(distinct case when v.first_registered_on > r.recognised_on then v.vin end)
            as vehicles_bought_while_assisted
    from {{ ref('int_household_vehicles') }} as v
    left join recognitions as r on r.household_id = v.household_id
    group by v.household_id
),

dwellings as (
    select household_id, count(distinct unit_id) as registered_dwelling_count
    from {{ ref('int_household_dwellings') }}
    group by household_id
),

businesses as (
    select household_id, count(distinct credit_code) as business_count
    from {{ ref('int_household_businesses') }}
    group by household_id
),

member_facts as (
    select
        m.household_id,
        count(*) as members_monitored,
        count(d.person_key) as members_deceased,
        sum(case when {{ age_on('m.birth_date', run_date()) }} between p.working_age_min and p.working_age_max
                 then 1 else 0 end) as members_working_age
    from members as m
    inner join households as h on h.household_id = m.household_id
    inner join parameters as p on p.county_code = h.parameter_county_code
    left join deaths as d on d.person_key = m.person_key
    group by m.household_id
),

unemployment as (
    select m.household_id, count(*) as open_unemployment_registrations
    from members as m
    inner join registrations as r on r.person_key = m.person_key
    where r.is_open_on_run_date
    group by m.household_id
),

disaster_facts as (
    select m.household_id, count(*) as disaster_records, sum(r.loss) as disaster_loss
    from members as m
    inner join disasters as r on r.head_key = m.person_key
    group by m.household_id
),

warning_counts as (
    select
        household_id,
        sum(case when status in ('待核查', '逾期') then 1 else 0 end) as open_warnings,
        sum(case when status in ('待核查', '逾期') and level = '红' then 1 else 0 end) as open_warnings_red,
        sum(case when status in ('待核查', '逾期') and level = '橙' then 1 else 0 end) as open_warnings_orange,
        sum(case when status in ('待核查', '逾期') and level = '黄' then 1 else 0 end) as open_warnings_yellow,
        sum(case when status = '逾期' then 1 else 0 end) as overdue_warnings,
        {{ string_agg_sorted("case when status in ('待核查', '逾期') then rule_code || coalesce(sub_case, '') end") }}
            as open_warning_rules
    from warnings
    where household_id is not null
    group by household_id
),

final as (
    select
        h.household_id,
        h.household_source,
        h.category,
        h.region_code,
        h.county_code,
        h.county_name,
        h.township_code,
        h.urban_rural,
        h.head_key,
        h.member_count,
        coalesce(f.members_monitored, 0) as members_monitored,
        coalesce(f.members_working_age, 0) as members_working_age,
        coalesce(f.members_deceased, 0) as members_deceased,
        h.annual_income,
        h.dibao_standard,
        cast(h.annual_income / nullif(h.member_count, 0) / 12 as decimal(14, 2)) as income_per_capita_month,
        coalesce(md.self_paid_12m, 0) as self_paid_12m,
        coalesce(md.medical_aid_paid_12m, 0) as medical_aid_paid_12m,
        greatest(p.w01_floor, p.w01_income_share * h.annual_income) as w01_threshold,
        w.wage_base_total as employee_wage_base_latest,
        w.latest_period as employee_wage_base_period,
        coalesce(u.open_unemployment_registrations, 0) as open_unemployment_registrations,
        coalesce(x.disaster_records, 0) as disaster_records,
        coalesce(x.disaster_loss, 0) as disaster_loss,
        coalesce(c.open_warnings, 0) as open_warnings,
        coalesce(c.open_warnings_red, 0) as open_warnings_red,
        coalesce(c.open_warnings_orange, 0) as open_warnings_orange,
        coalesce(c.open_warnings_yellow, 0) as open_warnings_yellow,
        coalesce(c.overdue_warnings, 0) as overdue_warnings,
        c.open_warning_rules,
        coalesce(vh.registered_vehicle_count, 0) as registered_vehicle_count,
        coalesce(vh.vehicles_bought_while_assisted, 0) as vehicles_bought_while_assisted,
        greatest(coalesce(dw.registered_dwelling_count, 0) - 1, 0) as registered_extra_dwelling_count,
        coalesce(bu.business_count, 0) as business_count,
        h.snapshot_cutoff,
        {{ run_date() }} as run_date
    from households as h
    inner join parameters as p on p.county_code = h.parameter_county_code
    left join member_facts as f on f.household_id = h.household_id
    left join medical as md on md.household_id = h.household_id
    left join wages as w on w.household_id = h.household_id
    left join unemployment as u on u.household_id = h.household_id
    left join disaster_facts as x on x.household_id = h.household_id
    left join warning_counts as c on c.household_id = h.household_id
    left join vehicles as vh on vh.household_id = h.household_id
    left join dwellings as dw on dw.household_id = h.household_id
    left join businesses as bu on bu.household_id = h.household_id
)

select * from final
