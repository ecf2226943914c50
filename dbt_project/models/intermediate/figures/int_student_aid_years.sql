-- School years in which each person has a student aid record (W08(b)).
with aid as (
    select * from {{ ref('stg_jyt__student_aid') }}
),

final as (
    select person_key, school_year, count(*) as aid_records, sum(amount) as aid_amount
    from aid
    group by person_key, school_year
)

select * from final
