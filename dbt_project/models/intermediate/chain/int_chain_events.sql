-- Every event the platform knows, one row each, before it is attached to households
-- (docs/rules.md#the-assistance-chain-一户人一条救助链): category changes between rosters, payments, medical assistance paid in
-- settlements (医疗救助支付 > 0, reversed pairs excluded), student aid (dated on the first day of its school year: the record
-- has no date), housing aid, disaster relief, disability certificates and subsidies, warnings and their answers. Built
-- from landed data only. `household_id` is set where the record itself names the household; person events get theirs in
-- the mart.
with category_changes as (
    select * from {{ ref('int_chain_category_changes') }}
),

payments as (
    select * from {{ ref('stg_mz__payments') }}
),

settlements as (
    select * from {{ ref('stg_ybj__settlements') }}
    where counts_in_totals and medical_aid_paid > 0
),

student_aid as (
    select * from {{ ref('stg_jyt__student_aid') }}
),

housing_aid as (
    select * from {{ ref('stg_zjt__housing_aid') }}
),

disasters as (
    select * from {{ ref('stg_yjj__disaster_reliefs') }}
),

disability as (
    select * from {{ ref('int_chain_disability_events') }}
),

warnings as (
    select * from {{ ref('fct_warnings') }}
),

events as (
    select
        source_dataset || ':' || household_id || ':' || {{ fmt_date('snapshot_cutoff') }} as event_id,
        event_date,
        household_id,
        cast(null as varchar) as person_key,
        case when source_dataset = 'mz_household' then '民政' else '农业农村' end as source_department,
        source_dataset,
        event_kind,
        category,
        cast(null as varchar) as programme,
        cast(null as varchar) as period,
        cast(null as decimal(14, 2)) as amount,
        description,
        household_id as reference_id,
        1 as kind_order
    from category_changes

    union all
    select
        'mz_payment:' || payment_id,
        paid_on,
        household_id,
        person_key,
        '民政',
        'mz_payment',
        case when amount < 0 then '追回资金' else '救助金发放' end,
        cast(null as varchar),
        programme,
        {{ fmt_month('period') }},
        amount,
        programme || ' ' || {{ fmt_month('period') }} || ' ' || {{ fmt_yuan('amount') }}
            || case when amount < 0 then '（追回多发资金）' else '' end
            || '，发放日期 ' || {{ fmt_date('paid_on') }},
        payment_id,
        2
    from payments

    union all
    select
        'ybj_settlement:' || settlement_id,
        settled_on,
        cast(null as varchar),
        person_key,
        '医疗保障',
        'ybj_settlement',
        '医疗救助',
        cast(null as varchar),
        visit_type,
        cast(null as varchar),
        medical_aid_paid,
        visit_type || '结算，医疗救助支付 ' || {{ fmt_yuan('medical_aid_paid') }} || '（医疗总费用 '
            || {{ fmt_yuan('total_cost') }} || '，个人负担 ' || {{ fmt_yuan('self_paid') }} || '）',
        settlement_id,
        3
    from settlements

    union all
    select
        'jyt_student_aid:' || aid_id,
        {{ school_year_start('school_year') }},
        cast(null as varchar),
        person_key,
        '教育',
        'jyt_student_aid',
        '教育救助',
        cast(null as varchar),
        aid_type,
        school_year,
        amount,
        school_year || ' 学年' || stage || aid_type || ' ' || {{ fmt_yuan('amount') }}
            || coalesce('（' || school || '）', ''),
        aid_id,
        4
    from student_aid

    union all
    select
        'zjt_housing_aid:' || record_id,
        starts_on,
        cast(null as varchar),
        person_key,
        '住房城乡建设',
        'zjt_housing_aid',
        '住房救助',
        cast(null as varchar),
        aid_type,
        cast(null as varchar),
        amount,
        aid_type || coalesce(' ' || {{ fmt_yuan('amount') }}, '') || '（' || {{ fmt_date('starts_on') }} || ' 至 '
            || coalesce({{ fmt_date('ends_on') }}, '—') || '）',
        record_id,
        5
    from housing_aid

    union all
    select
        'yjj_disaster:' || relief_id,
        occurred_on,
        cast(null as varchar),
        head_key,
        '应急管理',
        'yjj_disaster',
        '受灾救助',
        cast(null as varchar),
        hazard,
        cast(null as varchar),
        relief_paid,
        hazard || '，房屋受损情况：' || house_damage || '，直接经济损失 ' || {{ fmt_yuan('loss') }}
            || '，已发放救助 ' || {{ fmt_yuan('relief_paid') }},
        relief_id,
        6
    from disasters

    union all
    select
        'cl_disability:' || certificate_key || ':' || event_kind || ':' || {{ fmt_date('event_date') }},
        event_date,
        cast(null as varchar),
        person_key,
        '残联',
        'cl_disability',
        event_kind,
        cast(null as varchar),
        subsidy,
        cast(null as varchar),
        cast(null as decimal(14, 2)),
        description,
        certificate_key,
        7
    from disability

    union all
    select
        'warning:' || warning_id,
        raised_on,
        household_id,
        person_key,
        '监测平台',
        'fct_warnings',
        '预警',
        cast(null as varchar),
        rule_code || coalesce(sub_case, ''),
        cast(null as varchar),
        trigger_amount,
        rule_code || coalesce(sub_case, '') || ' ' || rule_name || '（' || level || '，' || status || '）：' || evidence,
        warning_id,
        8
    from warnings

    union all
    select
        'feedback:' || warning_id,
        checked_on,
        household_id,
        person_key,
        '乡镇（街道）核查',
        'feedback',
        '核查反馈',
        cast(null as varchar),
        rule_code || coalesce(sub_case, ''),
        cast(null as varchar),
        cast(null as decimal(14, 2)),
        '预警 ' || warning_id || ' 核查结果：' || finding || coalesce('；处置措施：' || action, ''),
        warning_id,
        9
    from warnings
    where checked_on is not null
),

final as (
    select * from events
)

select * from final
