-- W04 财产损失·灾害 (进入): a monitored household (its head or any member matched on 户主身份证号) has a disaster
-- relief record: 倒塌 or 严重损坏 → 红; else loss ≥ w04_orange_loss → 橙; else 黄. No time window.
-- Subject: the household; episode: the record; person_key: the member who matched.
with members as (
    select * from {{ ref('int_monitored_members') }}
),

households as (
    select * from {{ ref('int_monitored_households') }}
),

records as (
    select * from {{ ref('int_disaster_records') }}
),

parameters as (
    select * from {{ ref('int_parameters_by_county') }}
),

hits as (
    select
        m.household_id,
        m.person_key,
        m.is_head,
        h.county_code,
        h.township_code,
        r.relief_id,
        r.hazard,
        r.occurred_on,
        r.house_damage,
        r.loss,
        p.w04_orange_loss,
        case
            when r.is_house_destroyed then '红'
            when r.loss >= p.w04_orange_loss then '橙'
            else '黄'
        end as level
    from records as r
    inner join members as m on m.person_key = r.head_key
    inner join households as h on h.household_id = m.household_id
    inner join parameters as p on p.county_code = h.parameter_county_code
),

final as (
    select
        'W04' as rule_code,
        cast(null as {{ dbt.type_string() }}) as sub_case,
        level,
        'household' as subject_type,
        household_id as subject,
        household_id,
        person_key,
        cast(null as {{ dbt.type_string() }}) as households,
        'disaster:' || relief_id as episode,
        county_code,
        township_code,
        case when is_head then '户主' else '家庭成员' end || '为受灾户户主：' || hazard || '（'
            || {{ fmt_date('occurred_on') }} || '），房屋受损情况：' || house_damage || '，直接经济损失 '
            || {{ fmt_yuan('loss') }}
            || case
                when level = '橙' then '（≥ ' || {{ fmt_yuan('w04_orange_loss') }} || '）'
                when level = '黄' then '（< ' || {{ fmt_yuan('w04_orange_loss') }} || '）'
                else ''
            end
            || '；救助记录 ' || relief_id as evidence,
        cast(loss as decimal(14, 2)) as trigger_amount
    from hits
)

select * from final
