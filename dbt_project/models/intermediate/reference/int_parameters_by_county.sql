-- Rule parameters at the run date, one row per county (and the province's 370000), one column per parameter.
-- Rules join this on the county a warning is dispatched to; nothing in the models is a literal threshold.
with parameters as (
    select * from {{ ref('stg_reference__parameters') }}
),

wide as (
    select
        county_code,
        {%- for name in parameter_names() %}
        max(case when parameter = '{{ name }}' then value end) as {{ name }}{{ ',' if not loop.last }}
        {%- endfor %}
    from parameters
    group by county_code
),

final as (
    select
        county_code,
        {%- for name in parameter_names() %}
        {{ name }}{{ ',' if not loop.last }}
        {%- endfor %}
    from wide
)

select * from final
