-- 市场主体登记 (snapshot): every snapshot up to the run date, one row per 统一社会信用代码 and cut-off. 主体名称 is not
-- landed; 注册资本 is in ¥ (a delivery headed 注册资本（万元） was multiplied by 10,000 at landing).
with source as (
    {{ lake_rows(source('scjg', 'scjg_business')) }}
),

renamed as (
    select
        cast(credit_code as {{ dbt.type_string() }}) as credit_code,
        entity_type,
        rep_key,
        cast(registered_capital as decimal(14, 2)) as registered_capital,
        established_on,
        status,
        _cutoff as snapshot_cutoff,
        _seq,
        _data_row
    from source
),

one_per_key as (
    {{ latest_per_key('renamed', ['snapshot_cutoff', 'credit_code'], '_seq desc, _data_row desc') }}
),

final as (
    select
        credit_code,
        entity_type,
        entity_type in (
            {%- for company in company_types() %}
            '{{ company }}'{{ ',' if not loop.last }}
            {%- endfor %}
        ) as is_company,
        rep_key,
        registered_capital,
        established_on,
        status,
        snapshot_cutoff,
        snapshot_cutoff = {{ current_cutoff('scjg_business') }} as is_current_snapshot
    from one_per_key
)

select * from final
