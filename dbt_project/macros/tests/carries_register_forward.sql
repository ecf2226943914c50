{#-
  The register's continuity across runs (a blocking test, docs/failure_policy.md): every warning of the previous
  run's register is still in the register, under the same number, episode, raise date, deadline and first run; an
  answered one stays answered, an overdue one stays overdue until answered. One row per broken warning, with what broke.
-#}
{% test carries_register_forward(model, previous) %}
    select
        p.warning_id,
        p.status as previous_status,
        w.status,
        case
            when w.warning_id is null then 'dropped'
            when w.episode <> p.episode then 'episode changed'
            when w.raised_on <> p.raised_on then 'raised_on changed'
            when w.deadline <> p.deadline then 'deadline changed'
            when w.first_run_date <> p.first_run_date then 'first_run_date changed'
            else 'status went back'
        end as problem
    from {{ previous }} as p
    left join {{ model }} as w on w.warning_id = p.warning_id
    where w.warning_id is null
        or w.episode <> p.episode
        or w.raised_on <> p.raised_on
        or w.deadline <> p.deadline
        or w.first_run_date <> p.first_run_date
        or (p.status = '已核查' and w.status <> '已核查')
        or (p.status = '逾期' and w.status not in ('逾期', '已核查'))
{% endtest %}
