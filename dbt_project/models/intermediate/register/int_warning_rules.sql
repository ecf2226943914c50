-- The rule catalogue (docs/rules.md#warnings, docs/verification.md): name, family and suggested action of each rule
-- and sub-case, from dbt_project/seeds/warning_rules.csv — the one list the workbooks and the report read too.
with catalogue as (
    select * from {{ ref('stg_reference__warning_rules') }}
),

final as (
    select
        rule_code,
        sub_case,
        rule_name,
        family,
        suggested_action
    from catalogue
)

select * from final
