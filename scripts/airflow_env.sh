# The environment for running safetynet's DAGs on a local Airflow (docs/airflow.md). Source it from the
# project folder: `source scripts/airflow_env.sh`. Set AIRFLOW_PORT, AIRFLOW_HOME or SAFETYNET_DATA before
# sourcing to change them; tests/test_airflow_scheduler.py runs Airflow with exactly this environment.

project="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# China time everywhere: the schedules say Asia/Shanghai themselves; the processes, logs and UI follow it too
export TZ=Asia/Shanghai
export AIRFLOW__CORE__DEFAULT_TIMEZONE=Asia/Shanghai

export AIRFLOW_HOME="${AIRFLOW_HOME:-$project/.airflow}"   # metadata DB (SQLite), logs, airflow.cfg
export AIRFLOW__CORE__DAGS_FOLDER="$project/dags"
export AIRFLOW__CORE__LOAD_EXAMPLES=False
export SAFETYNET_DATA="${SAFETYNET_DATA:-$project/data}"  # the data root the tasks read and write

# Local only: the API server (and UI) listens on 127.0.0.1, and the workers reach it there
export AIRFLOW_PORT="${AIRFLOW_PORT:-8080}"
export AIRFLOW__API__HOST=127.0.0.1
export AIRFLOW__API__PORT="$AIRFLOW_PORT"
export AIRFLOW__CORE__EXECUTION_API_SERVER_URL="http://127.0.0.1:$AIRFLOW_PORT/execution/"
export AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS="${AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS:-admin:admin}"

# A 2-core machine: the LocalExecutor starts `parallelism` worker processes (32 by default) and the API
# server 4; two task slots are enough (dbt runs as one task, the warehouse pool has one slot anyway)
export AIRFLOW__CORE__EXECUTOR=LocalExecutor
export AIRFLOW__CORE__PARALLELISM="${AIRFLOW__CORE__PARALLELISM:-2}"
export AIRFLOW__API__WORKERS=1

export DBT_SEND_ANONYMOUS_USAGE_STATS=False GX_ANALYTICS_ENABLED=False AIRFLOW__COSMOS__ENABLE_TELEMETRY=False
