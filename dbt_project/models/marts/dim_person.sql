-- Every person (by pseudonymous key) met in any dataset up to the run date, with what the ID says, whether they
-- are monitored (and in which households), death, and disability. No ID numbers and no names.
{%- set person_sources = [
    ('stg_mz__members', 'person_key', 'birth_date', 'sex', 'id_region'),
    ('stg_mz__households', 'head_key', 'head_birth_date', 'head_sex', 'head_id_region'),
    ('stg_nync__monitored_households', 'head_key', 'head_birth_date', 'head_sex', 'head_id_region'),
    ('stg_mz__payments', 'person_key', 'birth_date', 'null', 'id_region'),
    ('stg_mz__application_members', 'person_key', 'birth_date', 'sex', 'id_region'),
    ('stg_mz__applications', 'applicant_key', 'applicant_birth_date', 'applicant_sex', 'applicant_id_region'),
    ('stg_mz__cremations', 'person_key', 'birth_date', 'sex', 'id_region'),
    ('stg_wjw__deaths', 'person_key', 'birth_date', 'sex', 'id_region'),
    ('stg_ybj__settlements', 'person_key', 'birth_date', 'null', 'id_region'),
    ('stg_rsj__unemployment_registrations', 'person_key', 'birth_date', 'null', 'id_region'),
    ('stg_rsj__contributions', 'person_key', 'birth_date', 'null', 'id_region'),
    ('stg_yjj__disaster_reliefs', 'head_key', 'head_birth_date', 'null', 'head_id_region'),
    ('stg_cl__disability_certificates', 'person_key', 'birth_date', 'sex', 'id_region'),
    ('stg_jyt__student_aid', 'person_key', 'birth_date', 'null', 'id_region'),
    ('stg_zjt__housing_aid', 'person_key', 'birth_date', 'null', 'id_region'),
] %}
-- each source reduced to one row per person first: the sources hold tens of millions of rows (every snapshot,
-- every settlement) but a few million persons, and the text aggregation below is the expensive part
with sightings as (
    {%- for model, key, birth, sex, region in person_sources %}
    select
        {{ key }} as person_key,
        min({{ birth }}) as birth_date,
        max(cast({{ sex }} as {{ dbt.type_string() }})) as sex,
        min(cast({{ region }} as {{ dbt.type_string() }})) as id_region,
        '{{ model.split("__")[0][4:] }}' as department
    from {{ ref(model) }}
    where {{ key }} is not null
    group by {{ key }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

persons as (
    select
        person_key,
        min(birth_date) as birth_date,
        max(sex) as sex,
        min(id_region) as id_region,
        {{ string_agg_sorted('department') }} as seen_by
    from sightings
    group by person_key
),

monitored as (
    select
        person_key,
        {{ string_agg_sorted('household_id') }} as monitored_households,
        {{ string_agg_sorted('category') }} as monitored_categories
    from {{ ref('int_monitored_members') }}
    group by person_key
),

deaths as (
    select * from {{ ref('int_deaths') }}
),

disability as (
    select
        person_key,
        min(disability_type || ' ' || disability_grade) as disability,
        max(case when care_subsidy = '是' then 1 else 0 end) = 1 as receives_care_subsidy,
        max(case when living_subsidy = '是' then 1 else 0 end) = 1 as receives_living_subsidy
    from {{ ref('int_disability_certificates_current') }}
    group by person_key
),

final as (
    select
        p.person_key,
        p.birth_date,
        p.sex,
        p.id_region,
        {{ age_on('p.birth_date', run_date()) }} as age_on_run_date,
        p.seen_by,
        m.person_key is not null as is_monitored,
        m.monitored_households,
        m.monitored_categories,
        d.died_on,
        d.death_source,
        x.disability,
        coalesce(x.receives_care_subsidy, false) as receives_care_subsidy,
        coalesce(x.receives_living_subsidy, false) as receives_living_subsidy,
        {{ run_date() }} as run_date
    from persons as p
    left join monitored as m on m.person_key = p.person_key
    left join deaths as d on d.person_key = p.person_key
    left join disability as x on x.person_key = p.person_key
)

select * from final
