-- D02 主动发现·灾害 (发现, 黄): a disaster relief record whose head is in no monitored household, with 倒塌 or 严重损坏,
-- or loss ≥ d02_loss. Subject: the household (no 家庭编号; identified by the record's head); episode: the record;
-- dispatched by the record's 行政区划代码.
with records as (
    select * from {{ ref('int_disaster_records') }}
),

monitored as (
    select distinct person_key from {{ ref('int_monitored_members') }}
),

parameters as (
    select * from {{ ref('int_parameters_by_county') }}
),

hits as (
    select r.*, p.d02_loss
    from records as r
    inner join parameters as p on p.county_code = r.parameter_county_code
    where r.head_key not in (select person_key from monitored)
      and (r.is_house_destroyed or r.loss >= p.d02_loss)
),

final as (
    select
        'D02' as rule_code,
        cast(null as {{ dbt.type_string() }}) as sub_case,
        '黄' as level,
        'household' as subject_type,
        head_key as subject,
        cast(null as {{ dbt.type_string() }}) as household_id,
        head_key as person_key,
        cast(null as {{ dbt.type_string() }}) as households,
        'disaster:' || relief_id as episode,
        county_code,
        township_code,
        '户主不在监测家庭；' || hazard || '（' || {{ fmt_date('occurred_on') }} || '），房屋受损情况：' || house_damage
            || '，直接经济损失 ' || {{ fmt_yuan('loss') }}
            || case when is_house_destroyed then '' else '（≥ ' || {{ fmt_yuan('d02_loss') }} || '）' end
            || '；救助记录 ' || relief_id as evidence,
        cast(loss as decimal(14, 2)) as trigger_amount
    from hits
)

select * from final
