-- 医疗费用结算明细 (increment): the latest version of each settlement, with 冲销 netting resolved:
-- a reversal cancels its original wherever the two fall in time (both stop counting); a reversal whose
-- original never arrived counts its own negative amounts (docs/extracts.md#ybj_settlement).
with source as (
    {{ lake_rows(source('ybj', 'ybj_settlement')) }}
),

renamed as (
    select
        cast(settlement_id as {{ dbt.type_string() }}) as settlement_id,
        person_key,
        birth_date,
        id_region,
        cast(insured_region as {{ dbt.type_string() }}) as insured_region,
        visit_type,
        settled_on,
        cast(total_cost as decimal(14, 2)) as total_cost,
        cast(fund_paid as decimal(14, 2)) as fund_paid,
        cast(coalesce(critical_illness_paid, 0) as decimal(14, 2)) as critical_illness_paid,
        cast(coalesce(medical_aid_paid, 0) as decimal(14, 2)) as medical_aid_paid,
        cast(self_paid as decimal(14, 2)) as self_paid,
        coalesce(settlement_type, '正常') as settlement_type,
        cast(original_settlement_id as {{ dbt.type_string() }}) as original_settlement_id,
        coalesce(parts_mismatch, false) as parts_mismatch,
        _cutoff,
        _seq,
        _data_row
    from source
),

latest as (
    {{ latest_per_key('renamed', ['settlement_id']) }}
),

reversals as (
    select settlement_id, original_settlement_id
    from latest
    where settlement_type = '冲销' and original_settlement_id is not null
),

cancelled_pairs as (
    select r.settlement_id as reversal_id, o.settlement_id as original_id
    from reversals as r
    inner join latest as o
        on o.settlement_id = r.original_settlement_id
       and o.settlement_type = '正常'
),

final as (
    select
        l.settlement_id,
        l.person_key,
        l.birth_date,
        l.id_region,
        l.insured_region,
        l.visit_type,
        l.settled_on,
        l.total_cost,
        l.fund_paid,
        l.critical_illness_paid,
        l.medical_aid_paid,
        l.self_paid,
        l.settlement_type,
        l.settlement_type = '冲销' as is_reversal,
        l.original_settlement_id,
        l.parts_mismatch,
        (
            l.settlement_id not in (select reversal_id from cancelled_pairs)
            and l.settlement_id not in (select original_id from cancelled_pairs)
        ) as counts_in_totals,
        l._cutoff as delivered_cutoff
    from latest as l
)

select * from final
