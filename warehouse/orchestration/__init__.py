"""What the Airflow DAGs need that is not a DAG definition (dags/ stays thin), by what it does:

- `schedules`: contracts → cadences (a cron in China time, a grace period), the pools, Assets and owner the DAGs
  share, which month end a run is for;
- `deliveries`: is a delivery there yet, is it late; the deferrable `DeliverySensor` and its `DeliveryTrigger`;
- `tasks`: the task bodies, each calling what the command line calls, and the run's ledger row (`RUN_STEPS`, the
  same steps `safetynet run` takes).

Nothing here may import polars, duckdb, dbt or Great Expectations at module level: the DAG processor imports these
modules for every DAG file it parses.
"""
