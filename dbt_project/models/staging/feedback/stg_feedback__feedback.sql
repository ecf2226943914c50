-- 核查反馈 (increment): the latest answer to each warning (answers count for the latest run as they arrive: lake_rows).
-- A workbook row that merges monthly warnings (W06, W07b) lists several 预警编号 in one cell, one per line:
-- its answer applies to each of them (up to max_ids_per_row numbers per cell).
{%- set through = "cast('" ~ var('feedback_through', var('run_date')) ~ "' as date)" %}
{%- set max_ids_per_row = 60 %}
{%- set separators = " ,，、;；" %}
with source as (
    {{ lake_rows(source('feedback', 'feedback'), through=through) }}
),

renamed as (
    select
        trim(cast(warning_id as {{ dbt.type_string() }})) as warning_ids,
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

separated as (
    -- every separator a cell may hold (spaces, commas, 、, semicolons, carriage returns) becomes a line break
    select
        translate(
            warning_ids, '{{ separators }}' || chr(13), repeat(chr(10), {{ separators | length + 1 }})
        ) as warning_ids,
        finding,
        action,
        checked_on,
        checked_by,
        remark,
        _cutoff,
        _seq,
        _data_row
    from renamed
),

positions as (
    select 1 as position
    {%- for n in range(2, max_ids_per_row + 1) %}
    union all
    select {{ n }} as position
    {%- endfor %}
),

answers as (
    select
        split_part(s.warning_ids, chr(10), p.position) as warning_id,
        s.finding,
        s.action,
        s.checked_on,
        s.checked_by,
        s.remark,
        s._cutoff,
        s._seq,
        s._data_row
    from separated as s
    cross join positions as p
    where split_part(s.warning_ids, chr(10), p.position) <> ''
),

latest as (
    {{ latest_per_key('answers', ['warning_id']) }}
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
