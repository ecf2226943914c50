-- Unemployment episodes: the latest version of each registration, open on the run date when it has no
-- 注销日期 or one after the run date.
with registrations as (
    select * from {{ ref('stg_rsj__unemployment_registrations') }}
),

final as (
    select
        registration_id,
        person_key,
        birth_date,
        registered_on,
        closed_on,
        close_reason,
        receives_benefit,
        registered_on <= {{ run_date() }}
            and (closed_on is null or closed_on > {{ run_date() }}) as is_open_on_run_date
    from registrations
)

select * from final
