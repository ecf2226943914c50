"""A province fed partly from an exchange database (PostgreSQL, started here) and partly from files raises
exactly the warnings of the same province fed all as files.

One generated province (200 households, 12 months): the all-files copy lands its inbox and builds. The other
copy takes three datasets out of its inbox — `mz_household` (dated snapshots, with rows the contract rejects),
`ybj_settlement` (an increment updated in place, update-time watermark) and `wjw_death` (an append-only
increment, id watermark) — and follows the timeline: at each of their cut-offs the sharing platform refreshes
the exchange tables from that delivery, and the platform pulls with that cut-off. Then it lands the rest of
its inbox, builds, and publishes.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import shutil
from itertools import groupby
from pathlib import Path

import duckdb
import polars as pl
import pytest
from exchange_support import (
    CONNECTION,
    DB_DATASETS,
    READER_PASSWORD,
    SOURCES,
    apply_delivery,
    create_tables,
    pg,  # noqa: F401  (fixture)
    reader_url,
    take_from_inbox,
    write_secret,
    write_source,
)

from ingestion import ledger
from ingestion.exchange import pull_dataset
from ingestion.landing import land_inbox
from ingestion.settings import DataRoot
from synthetic import generate_province
from warehouse.build import build, read_register
from warehouse.publish import publish, published_path

pytestmark = pytest.mark.xdist_group("exchange_e2e")

RUN = dt.date(2026, 10, 31)
KEY = ["rule_code", "sub_case", "level", "household_id", "person_key", "episode"]
STAGING = {
    "mz_household": "stg_mz__households",
    "ybj_settlement": "stg_ybj__settlements",
    "wjw_death": "stg_wjw__deaths",
}


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture(scope="module")
def provinces(pg, tmp_path_factory: pytest.TempPathFactory) -> dict:  # noqa: F811
    base = tmp_path_factory.mktemp("exchange_e2e")
    files, db = DataRoot(base / "files"), DataRoot(base / "db")
    logs = _Collect()
    logging.getLogger().addHandler(logs)
    previous_level = logging.getLogger().level
    logging.getLogger().setLevel(logging.DEBUG)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("SAFETYNET_PSEUDONYM_KEY", "cd" * 32)  # one key: both copies give every person the same key
        try:
            generate_province(files, households=200, months=12, seed=20261031, run_date=RUN)
            shutil.copytree(files.inbox, db.inbox)
            land_inbox(files)
            build(files, RUN)

            create_tables(pg)
            for dataset, text in SOURCES.items():
                write_source(db, dataset, text)
            write_secret(db, {CONNECTION: reader_url(pg)})
            pulls = []
            for cutoff, group in groupby(take_from_inbox(db), key=lambda d: d.cutoff):
                deliveries = list(group)
                for delivery in deliveries:
                    apply_delivery(pg, delivery)
                for dataset in dict.fromkeys(d.dataset for d in deliveries):
                    pulls.append(pull_dataset(db, dataset, cutoff))
            land_inbox(db)
            build(db, RUN)
            publish(db)
        finally:
            logging.getLogger().removeHandler(logs)
            logging.getLogger().setLevel(previous_level)
    return {"files": files, "db": db, "pulls": pulls, "logs": logs.lines, "url": reader_url(pg)}


def _keyed(frame: pl.DataFrame) -> set[tuple[str, ...]]:
    return {tuple(v or "" for v in row) for row in frame.select(KEY).iter_rows()}


def test_database_fed_province_raises_the_warnings_of_the_all_files_province(provinces: dict) -> None:
    from_files, from_db = _keyed(read_register(provinces["files"])), _keyed(read_register(provinces["db"]))
    truth = _keyed(pl.read_csv(provinces["files"].truth / "expected_warnings.csv", infer_schema_length=0))
    assert from_files, "the all-files province raised no warning"
    assert (sorted(from_files - from_db), sorted(from_db - from_files)) == ([], [])
    assert from_db == truth
    rules = {k[0] for k in from_db}
    assert {"W01", "W02", "D01"} <= rules  # warnings that read the pulled datasets: 医保 costs, deaths


def test_pulled_datasets_stage_exactly_the_rows_the_files_stage(provinces: dict) -> None:
    """The staging models of the pulled datasets hold the same rows, value for value, as from the files."""
    for model in STAGING.values():
        frames = []
        for root in (provinces["files"], provinces["db"]):
            with duckdb.connect(str(root.warehouse_db), read_only=True) as con:
                frame = con.sql(f"select * from staging.{model}").pl()
            keep = [c for c in frame.columns if not c.startswith("_") and "cutoff" not in c]
            frames.append(frame.select(keep).sort(keep, nulls_last=True))
        assert frames[0].height > 0, model
        assert frames[1].equals(frames[0]), model


def test_every_pull_reconciles_and_rejected_rows_are_quarantined(provinces: dict) -> None:
    db = provinces["db"]
    landings = [landing for outcome in provinces["pulls"] for landing in outcome.landings]
    assert {landing.dataset for landing in landings} == set(DB_DATASETS)
    assert all(landing.file_name.startswith(f"db:{CONNECTION}/") for landing in landings)
    for landing in landings:
        assert landing.status == "landed", landing
        assert landing.rows_in == landing.rows_landed + landing.rows_rejected, landing
    with ledger.open_ledger(db) as conn:
        rejected = conn.execute(
            "SELECT dataset, reason, count(*) FROM rejections WHERE file_name LIKE 'db:%' GROUP BY dataset, reason"
        ).fetchall()
        pulls = conn.execute("SELECT count(*) FROM pulls").fetchone()[0]
    reasons = {(dataset, reason) for dataset, reason, _ in rejected}
    assert {("mz_household", "member_count_below_1"), ("mz_household", "negative_amount")} <= reasons
    assert pulls == len(landings)
    assert list((db.quarantine / "mz_household").glob("*.parquet"))


def test_no_credential_in_the_ledger_logs_lake_or_mart(provinces: dict) -> None:
    db, url = provinces["db"], provinces["url"]
    secrets = [READER_PASSWORD.encode(), url.encode()]
    stores: list[Path] = [db.ledger, db.warehouse_db, published_path(db), *db.lake.rglob("*.parquet")]
    for path in stores:
        data = path.read_bytes()
        assert not any(secret in data for secret in secrets), path
    assert provinces["logs"], "nothing was logged: the check would prove nothing"
    assert not any(READER_PASSWORD in line or url in line for line in provinces["logs"])
    assert os.stat(db.secrets / "databases.yaml").st_mode & 0o077 == 0
