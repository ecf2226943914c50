-- The tests of int_identification_test_results unpivoted: one row per (case, category, test) with its figures and
-- outcome, in the order of identification_tests() (the order the trace shows them in).
with results as (
    select * from {{ ref('int_identification_test_results') }}
),

unpivoted as (
    {%- for category, order, code, name in identification_tests() %}
    select
        case_id,
        '{{ category }}' as category,
        {{ order }} as test_order,
        '{{ name }}' as test_name,
        {{ code }}_figures as figures,
        {{ code }}_passed as passed
    from results
    where {{ code }}_passed is not null
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

final as (
    select
        case_id,
        category,
        {{ category_rank('category') }} as category_rank,
        test_order,
        test_name,
        figures,
        passed
    from unpivoted
)

select * from final
