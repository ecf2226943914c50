-- Every warning whose trigger holds at the run date, one row per (rule, sub-case, subject, episode), with its
-- stable number. W01 and D01 have the rule alone as episode; once such a warning is answered, a new one is
-- raised only when the 12-month amount has grown by ≥ reraise_growth since the answered one, or reraise_months
-- have passed since the answer — under a distinct episode `<rule>:<run date>` (docs/rules.md#warnings).
-- A rule whose model could not be built this run is left out of the union (var `rules_not_evaluated`, set by
-- warehouse/build.py on its second pass); fct_warnings then carries that rule's warnings forward unchanged.
{%- set rule_models = [
    'int_warning_w01_medical_surge',
    'int_warning_w02_breadwinner_death',
    'int_warning_w03_unemployment',
    'int_warning_w04_disaster',
    'int_warning_w05_income_over',
    'int_warning_w06_death_not_exited',
    'int_warning_w07_duplicate_assistance',
    'int_warning_w08_missed_entitlement',
    'int_warning_w09_vehicles',
    'int_warning_w10_dwellings',
    'int_warning_w11_business',
    'int_warning_d01_medical_discovery',
    'int_warning_d02_disaster_discovery',
] %}
{%- set evaluated = rules_evaluated(rule_models) %}
with hits as (
    {%- for model in evaluated %}
    select {{ warning_hit_columns() | join(', ') }} from {{ ref(model) }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- else %}
    select {{ warning_hit_columns() | join(', ') }} from {{ ref('stg_state__previous_register') }} where false
    {%- endfor %}
),

previous as (
    select * from {{ ref('stg_state__previous_register') }}
),

feedback as (
    select * from {{ ref('stg_feedback__feedback') }}
),

rules as (
    select * from {{ ref('int_warning_rules') }}
),

counties as (
    select * from {{ ref('int_counties') }}
),

parameters as (
    select * from {{ ref('int_parameters_by_county') }}
),

-- the latest earlier warning of each (rule, subject) for the rules whose episode is the rule alone
previous_rule_episodes as (
    select
        p.rule_code,
        p.subject,
        p.episode,
        p.trigger_amount,
        p.first_run_date,
        p.status = '已核查' or f.warning_id is not null as is_answered,
        coalesce(f.checked_on, p.checked_on) as answered_on
    from previous as p
    left join feedback as f on f.warning_id = p.warning_id
    where p.rule_code in ('W01', 'D01')
),

latest_rule_episode as (
    {{ latest_per_key('previous_rule_episodes', ['rule_code', 'subject'], 'first_run_date desc, episode desc') }}
),

-- a person warning whose households are on no roster has no known residence: it goes to the province
dispatched as (
    select
        {%- for column in warning_hit_columns() %}
        {%- if column == 'county_code' %}
        coalesce(county_code, {{ province_county_code() }}) as county_code,
        {%- else %}
        {{ column }},
        {%- endif %}
        {%- endfor %}
        county_code is null as dispatched_to_province
    from hits
),

with_parameters as (
    select
        h.*,
        coalesce(k.parameter_county_code, {{ province_county_code() }}) as parameter_county_code
    from dispatched as h
    left join counties as k on k.county_code = h.county_code
),

episodes as (
    select
        h.*,
        case
            when h.rule_code not in ('W01', 'D01') or e.rule_code is null then h.episode
            when not e.is_answered then e.episode
            when h.trigger_amount >= e.trigger_amount * (1 + p.reraise_growth)
                or {{ run_date() }} >= {{ add_months('e.answered_on', 'p.reraise_months') }}
                then h.episode || ':' || {{ fmt_date(run_date()) }}
            else e.episode
        end as final_episode
    from with_parameters as h
    inner join parameters as p on p.county_code = h.parameter_county_code
    left join latest_rule_episode as e
        on e.rule_code = h.rule_code
       and e.subject = h.subject
),

final as (
    select
        {{ warning_id('e.rule_code', 'e.sub_case', 'e.subject', 'e.final_episode') }} as warning_id,
        e.rule_code,
        e.sub_case,
        r.rule_name,
        e.level,
        r.family,
        e.subject_type,
        e.subject,
        e.household_id,
        e.person_key,
        e.households,
        e.final_episode as episode,
        e.county_code,
        e.township_code,
        e.evidence,
        r.suggested_action,
        e.trigger_amount,
        e.parameter_county_code
    from episodes as e
    inner join rules as r
        on r.rule_code = e.rule_code
       and coalesce(r.sub_case, '') = coalesce(e.sub_case, '')
)

select * from final
