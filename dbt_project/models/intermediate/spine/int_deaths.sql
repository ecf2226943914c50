-- One death per person from both sources (docs/rules.md#readings-taken-for-warnings): the health commission's date
-- first, else the cremation record's; the same death usually arrives from both, days or weeks apart.
with certificates as (
    select person_key, min(died_on) as died_on, min(birth_date) as birth_date
    from {{ ref('stg_wjw__deaths') }}
    group by person_key
),

cremations as (
    select person_key, min(died_on) as died_on, min(birth_date) as birth_date
    from {{ ref('stg_mz__cremations') }}
    group by person_key
),

persons as (
    select person_key from certificates
    union
    select person_key from cremations
),

final as (
    select
        p.person_key,
        coalesce(w.died_on, c.died_on) as died_on,
        case when w.died_on is not null then 'wjw_death' else 'mz_cremation' end as death_source,
        coalesce(w.birth_date, c.birth_date) as birth_date
    from persons as p
    left join certificates as w on w.person_key = p.person_key
    left join cremations as c on c.person_key = p.person_key
)

select * from final
