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
        {%- for name in parameter_names() if name not in ('reraise_growth', 'reraise_months') %}
        {{ name }},
        {%- endfor %}
        coalesce(reraise_growth, {{ var('reraise_growth_default') }}) as reraise_growth,
        coalesce(reraise_months, {{ var('reraise_months_default') }}) as reraise_months
    from wide
)

select * from final
