-- The people of each identification case, one row per (case, person): an application's members (the applicant
-- too, when the member rows do not list them), or the roster members (head included) of a household leaving
-- 特困/低保 as listed in the latest snapshot showing it (its figures_cutoff), with health from that roster. 单人保
-- and 临时救助 look at these people. The roster carries no disability grade, so a leaving household's 单人保 rests
-- on 健康状况 = 重病 alone (the generator's truth reads it so; 残联 certificates are not consulted).
with applications as (
    select * from {{ ref('stg_mz__applications') }}
),

application_members as (
    select * from {{ ref('stg_mz__application_members') }}
),

exits as (
    select * from {{ ref('int_identification_exits') }}
),

snapshot_members as (
    select * from {{ ref('int_mz_snapshot_members') }}
),

listed as (
    select
        m.application_id as case_id,
        case when a.origin = '退出转入' then '退出转入申请' else '申请' end as review_kind,
        m.person_key,
        m.person_key = a.applicant_key as is_applicant,
        m.relation,
        m.birth_date,
        m.labour_capacity,
        m.health,
        m.disability_type,
        m.disability_grade
    from application_members as m
    inner join applications as a on a.application_id = m.application_id
),

applicants_not_listed as (
    select
        a.application_id as case_id,
        case when a.origin = '退出转入' then '退出转入申请' else '申请' end as review_kind,
        a.applicant_key as person_key,
        true as is_applicant,
        '户主' as relation,
        a.applicant_birth_date as birth_date,
        cast(null as varchar) as labour_capacity,
        cast(null as varchar) as health,
        cast(null as varchar) as disability_type,
        cast(null as varchar) as disability_grade
    from applications as a
    where not exists (
        select 1 from application_members as m
        where m.application_id = a.application_id and m.person_key = a.applicant_key
    )
),

roster as (
    select
        'exit:' || e.household_id || ':' || {{ fmt_date('e.from_cutoff') }} as case_id,
        '退出复核' as review_kind,
        m.person_key,
        m.is_head as is_applicant,
        m.relation,
        m.birth_date,
        m.labour_capacity,
        m.health,
        cast(null as varchar) as disability_type,
        cast(null as varchar) as disability_grade
    from exits as e
    inner join snapshot_members as m
        on m.household_id = e.household_id
       and m.snapshot_cutoff = e.figures_cutoff
),

final as (
    select * from listed
    union all
    select * from applicants_not_listed
    union all
    select * from roster
)

select * from final
