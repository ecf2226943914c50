-- D01 主动发现·大额医疗 (发现, 黄): a person in no monitored household with trailing-12-month 个人负担 ≥ d01_self_paid.
-- No household: dispatched to the county of the 参保地 of the person's most recent claim naming one, else the
-- county of the ID's first 6 digits; a county that is not Shandong's goes to the province (370000). No township.
with medical as (
    select * from {{ ref('int_medical_person_12m') }}
),

monitored as (
    select distinct person_key from {{ ref('int_monitored_members') }}
),

insured as (
    select * from {{ ref('int_person_insured_county') }}
),

id_regions as (
    select person_key, min(id_region) as id_county_code
    from {{ ref('stg_ybj__settlements') }}
    group by person_key
),

counties as (
    select * from {{ ref('int_counties') }}
),

parameters as (
    select * from {{ ref('int_parameters_by_county') }}
),

candidates as (
    select
        m.person_key,
        m.self_paid_12m,
        m.window_start,
        m.window_end,
        coalesce(i.insured_county_code, r.id_county_code) as named_county_code,
        case when i.insured_county_code is not null then '参保地' else '身份证号' end as county_basis
    from medical as m
    left join insured as i on i.person_key = m.person_key
    left join id_regions as r on r.person_key = m.person_key
    where m.person_key not in (select person_key from monitored)
),

dispatched as (
    select
        c.*,
        coalesce(k.county_code, {{ province_county_code() }}) as county_code,
        coalesce(k.parameter_county_code, {{ province_county_code() }}) as parameter_county_code
    from candidates as c
    left join counties as k on k.county_code = c.named_county_code
),

hits as (
    select d.*, p.d01_self_paid
    from dispatched as d
    inner join parameters as p on p.county_code = d.parameter_county_code
    where d.self_paid_12m >= p.d01_self_paid
),

final as (
    select
        'D01' as rule_code,
        cast(null as {{ dbt.type_string() }}) as sub_case,
        '黄' as level,
        'person' as subject_type,
        person_key as subject,
        cast(null as {{ dbt.type_string() }}) as household_id,
        person_key,
        cast(null as {{ dbt.type_string() }}) as households,
        'D01' as episode,
        county_code,
        cast(null as {{ dbt.type_string() }}) as township_code,
        '不在监测家庭；近12个月（' || {{ fmt_date('window_start') }} || '至' || {{ fmt_date('window_end') }}
            || '）个人负担 ' || {{ fmt_yuan('self_paid_12m') }} || ' ≥ ' || {{ fmt_yuan('d01_self_paid') }}
            || '；按' || county_basis || '派发' as evidence,
        cast(self_paid_12m as decimal(14, 2)) as trigger_amount
    from hits
)

select * from final
