-- Disability events from the 残联 certificate rosters (snapshots), one row per certificate and event (each one
-- unique: a certificate missing from one monthly roster and listed again is common in real files):
--   持证残疾 — the first roster that lists the certificate (dated by 发证日期 when known, else that roster's cut-off);
--   残疾人证移出名册 — listed in a roster, not in the next one (dated by the later cut-off);
--   残疾人证重新列入名册 — listed again after such a gap (dated by the roster that lists it again);
--   享受… / 停止享受… — each change of the two subsidies between consecutive rosters: 是 now and not before (or in the
--   first roster), 是 before and not now (or the certificate left the roster), dated by the later cut-off.
{%- set subsidies = [
    ('living_subsidy', '困难残疾人生活补贴'),
    ('care_subsidy', '重度残疾人护理补贴'),
] %}
with certificates as (
    select * from {{ ref('stg_cl__disability_certificates') }}
),

first_listed as (
    select certificate_key, min(snapshot_cutoff) as first_cutoff
    from certificates
    group by certificate_key
),

cutoffs as (
    select
        snapshot_cutoff,
        lag(snapshot_cutoff) over (order by snapshot_cutoff) as previous_cutoff
    from (select distinct snapshot_cutoff from certificates) as distinct_cutoffs
),

keys as (
    select c.snapshot_cutoff, c.previous_cutoff, d.certificate_key
    from cutoffs as c
    inner join certificates as d on d.snapshot_cutoff = c.snapshot_cutoff
    union
    select c.snapshot_cutoff, c.previous_cutoff, d.certificate_key
    from cutoffs as c
    inner join certificates as d on d.snapshot_cutoff = c.previous_cutoff
),

pairs as (
    select
        k.snapshot_cutoff,
        k.previous_cutoff,
        k.certificate_key,
        coalesce(n.person_key, p.person_key) as person_key,
        coalesce(n.disability_type, p.disability_type) as disability_type,
        coalesce(n.disability_grade, p.disability_grade) as disability_grade,
        n.issued_on,
        k.snapshot_cutoff = f.first_cutoff as first_listing,
        n.certificate_key is not null as listed_now,
        p.certificate_key is not null as listed_before,
        {%- for column, name in subsidies %}
        coalesce(n.{{ column }} = '是', false) as {{ column }}_now,
        coalesce(p.{{ column }} = '是', false) as {{ column }}_before{{ ',' if not loop.last }}
        {%- endfor %}
    from keys as k
    left join certificates as n
        on n.snapshot_cutoff = k.snapshot_cutoff
       and n.certificate_key = k.certificate_key
    left join certificates as p
        on p.snapshot_cutoff = k.previous_cutoff
       and p.certificate_key = k.certificate_key
    inner join first_listed as f on f.certificate_key = k.certificate_key
),

events as (
    select
        certificate_key,
        person_key,
        '持证残疾' as event_kind,
        case
            when issued_on <= snapshot_cutoff then issued_on
            else snapshot_cutoff
        end as event_date,
        disability_type || '残疾' || disability_grade as subsidy,
        '持残疾人证：' || disability_type || '残疾' || disability_grade
            || coalesce('（发证日期 ' || {{ fmt_date('issued_on') }} || '）', '') as description
    from pairs
    where listed_now and first_listing
    union all
    select
        certificate_key,
        person_key,
        case when listed_now then '残疾人证重新列入名册' else '残疾人证移出名册' end as event_kind,
        snapshot_cutoff as event_date,
        disability_type || '残疾' || disability_grade as subsidy,
        case
            when listed_now
                then '残疾人证重新列入名册（' || disability_type || '残疾' || disability_grade || '，'
                    || {{ fmt_date('snapshot_cutoff') }} || ' 名册；' || {{ fmt_date('previous_cutoff') }} || ' 名册中无该证）'
            else '残疾人证不在 ' || {{ fmt_date('snapshot_cutoff') }} || ' 名册中（' || disability_type || '残疾'
                || disability_grade || '，' || {{ fmt_date('previous_cutoff') }} || ' 名册中仍有）'
        end as description
    from pairs
    where listed_now <> listed_before and not first_listing
    {%- for column, name in subsidies %}
    union all
    select
        certificate_key,
        person_key,
        case when {{ column }}_now then '享受{{ name }}' else '停止享受{{ name }}' end as event_kind,
        snapshot_cutoff as event_date,
        '{{ name }}' as subsidy,
        case
            when {{ column }}_now
                then '享受{{ name }}（' || disability_type || '残疾' || disability_grade || '，'
                    || {{ fmt_date('snapshot_cutoff') }} || ' 名册）'
            else '不再享受{{ name }}（' || {{ fmt_date('snapshot_cutoff') }} || ' 名册'
                || case when listed_now then '' else '中已无该证' end || '）'
        end as description
    from pairs
    where {{ column }}_now <> {{ column }}_before
    {%- endfor %}
),

final as (
    select * from events
)

select * from final
