-- The register as the latest earlier run left it (exported from the ledger by warehouse/build.py).
with source as (
    select * from {{ source('state', 'previous_register') }}
),

final as (
    select
        cast(run_date as date) as previous_run_date,
        warning_id,
        rule_code,
        nullif(sub_case, '') as sub_case,
        level,
        family,
        subject_type,
        subject,
        household_id,
        person_key,
        households,
        episode,
        county_code,
        township_code,
        evidence,
        suggested_action,
        cast(trigger_amount as decimal(14, 2)) as trigger_amount,
        cast(raised_on as date) as raised_on,
        cast(deadline as date) as deadline,
        status,
        finding,
        action,
        cast(checked_on as date) as checked_on,
        checked_by,
        cast(first_run_date as date) as first_run_date,
        cast(last_run_date as date) as last_run_date
    from source
)

select * from final
