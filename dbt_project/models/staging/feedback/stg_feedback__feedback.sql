-- 核查反馈 (increment): the latest answer to each warning (answers count for the latest run as they arrive: lake_rows).
{%- set through = "cast('" ~ var('feedback_through', var('run_date')) ~ "' as date)" %}
with source as (
    {{ lake_rows(source('feedback', 'feedback'), through=through) }}
),

renamed as (
    select
        trim(cast(warning_id as {{ dbt.type_string() }})) as warning_id,
        finding,
        action,
        checked_on,
        checked_by,
        remark,
        _cutoff,
        _seq,
        _data_row
    from source
),

latest as (
    {{ latest_per_key('renamed', ['warning_id']) }}
),

final as (
    select
        warning_id,
        finding,
        action,
        checked_on,
        checked_by,
        remark,
        _cutoff as delivered_cutoff
    from latest
)

select * from final
