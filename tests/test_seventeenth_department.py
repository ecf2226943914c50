"""A department added from files alone: a contract (with its checks), a staging folder, no Python.

A made-up department — 体育 (tyj), 退役运动员困难补助 — is written into copies of the contracts folder
($SAFETYNET_CONTRACTS) and the dbt project ($SAFETYNET_DBT_PROJECT) under the test's temporary folder. One
delivery of it is landed from a CSV in the inbox (IDs keyed, names to the vault, phones dropped), checked by Great
Expectations with the generic suite plus the range its contract declares, and staged by dbt. Nothing of it exists in
the repository.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest
from bad_inputs.factory import make_root, person_id, write_csv

from expectations.contract_view import dataset_suite
from expectations.runner import check_pending
from expectations.suites import suite_checks
from ingestion import ledger
from ingestion.contracts import CONTRACTS_DIR, CONTRACTS_ENV, ContractError, all_contracts
from ingestion.landing import land_inbox
from warehouse.build import PROJECT_DIR, PROJECT_ENV, prepare_inputs, run_dbt

REPO = Path(__file__).resolve().parents[1]
DATASET, DEPT = "tyj_athlete_aid", "tyj"
RUN = dt.date(2026, 10, 31)

CONTRACT = """\
dataset: tyj_athlete_aid
title: 体育 退役运动员困难补助
department: tyj
kind: increment
frequency: monthly
keys: [grant_id]
columns:
  - {header: 补助编号, field: grant_id, kind: text, required: true}
  - {header: 姓名, field: name, kind: text, required: true, pii: name, person: id_number}
  - {header: 身份证号, field: id_number, kind: id, required: true}
  - {header: 发放月份, field: period, kind: month, required: true}
  - {header: 补助金额, field: amount, kind: amount, required: true}
  - {header: 联系电话, field: phone, kind: text, required: false, pii: drop}
suite:
  ranges:
    - {column: amount, low: 0, high: 5000, why: a month's grant}
"""

SOURCES = """\
version: 2
sources:
  - name: tyj
    description: '体育 sports bureau: landed deliveries in the Parquet lake (one file per delivery).'
    config:
      meta:
        external_location: "read_parquet('{{ env_var('SAFETYNET_LAKE', '../data/lake') }}/{name}/**/*.parquet', \
union_by_name=true, hive_partitioning=false)"
    tables:
      - name: tyj_athlete_aid
        description: 体育 退役运动员困难补助 · increment · monthly; key grant_id
        columns:
          - {name: grant_id, description: 补助编号}
          - {name: person_key, description: person key of 身份证号}
          - {name: birth_date, description: birth date read from 身份证号}
          - {name: sex, description: sex read from 身份证号}
          - {name: id_region, description: 6-digit region of 身份证号}
          - {name: period, description: 发放月份}
          - {name: amount, description: 补助金额}
          - {name: _file, description: delivered file}
          - {name: _sha256, description: sha256 of the delivered file}
          - {name: _cutoff, description: cut-off date}
          - {name: _seq, description: re-delivery number}
          - {name: _data_row, description: data row}
"""

MODELS = """\
version: 2
models:
  - name: stg_tyj__athlete_aid
    description: 退役运动员困难补助, the latest version of each grant.
    columns:
      - {name: grant_id, description: 补助编号, data_tests: [unique, not_null]}
      - {name: person_key, description: person key of the athlete, data_tests: [not_null]}
"""

MODEL = """\
with source as (
    {{ lake_rows(source('tyj', 'tyj_athlete_aid')) }}
),

renamed as (
    select grant_id, person_key, period, amount, _cutoff, _seq, _data_row
    from source
),

latest as (
    {{ latest_per_key('renamed', ['grant_id']) }}
),

final as (
    select grant_id, person_key, period, amount, _cutoff as delivered_cutoff
    from latest
)

select * from final
"""

ROWS = [  # grant, name, ID, month, amount, phone; the third grant's amount is beyond the contract's range
    ["TY001", "张伟", person_id(1), "2026-10", "1200.00", "13800000001"],
    ["TY002", "王芳", person_id(2), "2026-10", "800.00", ""],
    ["TY003", "李娜", person_id(3), "2026-10", "9000.00", "13800000003"],
]


@pytest.fixture
def department(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """Copies of the contracts and the dbt project with the department added, in force through the environment."""
    contracts = tmp_path / "contracts"
    shutil.copytree(CONTRACTS_DIR, contracts)
    (contracts / f"{DATASET}.yaml").write_text(CONTRACT, encoding="utf-8")
    project = tmp_path / "dbt_project"
    shutil.copytree(PROJECT_DIR, project, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"))
    staging = project / "models" / "staging" / DEPT
    staging.mkdir()
    (staging / f"_{DEPT}__sources.yml").write_text(SOURCES, encoding="utf-8")
    (staging / f"_{DEPT}__models.yml").write_text(MODELS, encoding="utf-8")
    (staging / "stg_tyj__athlete_aid.sql").write_text(MODEL, encoding="utf-8")
    monkeypatch.setenv(CONTRACTS_ENV, str(contracts))
    monkeypatch.setenv(PROJECT_ENV, str(project))
    return contracts, project


def test_a_department_from_files_alone_is_landed_checked_and_staged(
    department: tuple[Path, Path], tmp_path: Path
) -> None:
    assert DATASET in all_contracts() and DATASET not in all_contracts(CONTRACTS_DIR)
    root = make_root(tmp_path)
    write_csv(root.inbox / DATASET / f"{DATASET}_{RUN:%Y%m%d}.csv", ["补助编号", "姓名", "身份证号", "发放月份",
              "补助金额", "联系电话"], ROWS)  # fmt: skip

    (landed,) = land_inbox(root)
    assert (landed.dataset, landed.status, landed.rows_landed, landed.rows_rejected) == (DATASET, "landed", 3, 0)
    (lake_file,) = (root.lake / DATASET).glob(f"cutoff={RUN}/seq=1/*.parquet")
    lake = pq.read_table(lake_file)
    assert {"person_key", "birth_date", "amount"} <= set(lake.column_names)
    assert not {"name", "id_number", "phone"} & set(lake.column_names)  # names to the vault, IDs keyed, phone dropped
    assert person_id(1) not in lake_file.read_bytes().decode("latin-1")

    summary = check_pending(root)
    (verdict,) = summary.deliveries
    assert verdict.delivery.dataset == DATASET and not verdict.held
    assert [w.split(":")[0] for w in verdict.warnings] == ["range__amount"]  # the contract's own check, failed once
    names = {c.name for c in suite_checks(DATASET)}
    assert {"range__amount", "key_unique__critical", "not_null__person_key", "age_plausible__birth_date"} <= names
    stored = ledger.read_table(root, "checks")
    assert set(stored.filter(stored["dataset"] == DATASET)["expectation"].to_list()) == names

    prepare_inputs(root, RUN)
    results = run_dbt(root, RUN, "build", select=f"stg_{DEPT}__athlete_aid")
    assert {str(r.status) for r in results} == {"success", "pass"} and len(results) == 4  # the model and its 3 tests
    with duckdb.connect(str(root.warehouse_db), read_only=True) as con:
        staged = con.sql("select grant_id, amount from staging.stg_tyj__athlete_aid order by grant_id").fetchall()
    assert [(g, float(a)) for g, a in staged] == [("TY001", 1200.0), ("TY002", 800.0), ("TY003", 9000.0)]


def test_nothing_of_the_department_is_in_the_repository() -> None:
    """The department above needed no line of the repository: no code, contract or model names it."""
    found = [
        str(path.relative_to(REPO))
        for folder in ("ingestion", "expectations", "warehouse", "dags", "dbt_project/models", "dbt_project/macros")
        for path in (REPO / folder).rglob("*")
        if path.is_file() and path.suffix in (".py", ".yaml", ".yml", ".sql") and DEPT in path.read_text("utf-8")
    ]
    assert found == []


def test_a_check_naming_a_column_the_lake_lacks_is_refused_naming_the_file(
    department: tuple[Path, Path],
) -> None:
    contracts, _ = department
    path = contracts / f"{DATASET}.yaml"
    path.write_text(CONTRACT.replace("column: amount", "column: id_number"), encoding="utf-8")
    with pytest.raises(ContractError, match=rf"{DATASET}\.yaml: suite names \['id_number'\]"):
        dataset_suite(DATASET)
