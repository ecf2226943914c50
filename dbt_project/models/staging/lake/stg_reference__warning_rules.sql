-- The warning rules' catalogue (dbt_project/seeds/warning_rules.csv, written by the build): one row per rule and
-- sub-case.
with source as (
    select * from {{ source('reference', 'warning_rules') }}
),

final as (
    select
        cast(rule_code as {{ dbt.type_string() }}) as rule_code,
        nullif(cast(sub_case as {{ dbt.type_string() }}), '') as sub_case,
        cast(rule_name as {{ dbt.type_string() }}) as rule_name,
        cast(family as {{ dbt.type_string() }}) as family,
        cast(suggested_action as {{ dbt.type_string() }}) as suggested_action
    from source
)

select * from final
