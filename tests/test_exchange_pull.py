"""Pulling from an exchange database (PostgreSQL, started here): what is new lands once, changed rows come
again, dated and whole snapshots, and every failure is one line naming the dataset and the source with
nothing landed and the watermark where it was."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from urllib.parse import urlsplit

import polars as pl
import pytest
from bad_inputs.factory import valid_rows
from exchange_support import (
    CONNECTION,
    READER_PASSWORD,
    pg,  # noqa: F401  (fixture)
    reader_url,
    write_secret,
    write_source,
)

from ingestion import ledger
from ingestion.contracts import load_contract
from ingestion.exchange import SourceError, has_new_rows, load_source, pull_dataset, pull_sources
from ingestion.exchange.source import url_env
from ingestion.settings import DataRoot

pytestmark = pytest.mark.xdist_group("exchange_pull")

DEATH = load_contract("wjw_death")
MEMBER = load_contract("mz_member")
OCT, NOV = dt.date(2026, 10, 31), dt.date(2026, 11, 30)


def _sql_text(value: object) -> str:
    return "null" if value is None else "'" + str(value).replace("'", "''") + "'"


def insert(server, table: str, columns: list[str], rows: list[list[object]]) -> None:
    names = ", ".join(f'"{c}"' for c in columns)
    values = ",\n".join("(" + ", ".join(_sql_text(v) for v in row) + ")" for row in rows)
    server.psql(f"insert into {table} ({names}) values {values};")


@pytest.fixture
def deaths(pg, request) -> str:  # noqa: F811
    """A fresh `qzk.<table>` of 死亡医学证明 named by the Chinese headers, with an update-time watermark."""
    table = f"qzk.deaths_{request.node.name.split('[')[0][-40:].lower()}"
    columns = ", ".join(f'"{c.header}" text' for c in DEATH.columns)
    pg.psql(f"drop table if exists {table}; create table {table} ({columns}, updated_at timestamp not null);")
    return table


def _root(tmp_path: Path, server, table: str, dataset: str = "wjw_death", extra: str = "watermark: updated_at\n"):
    root = DataRoot(tmp_path / "root")
    write_source(root, dataset, f"connection: {CONNECTION}\ntable: {table}\n{extra}")
    write_secret(root, {CONNECTION: reader_url(server)})
    return root


def _death_rows(start: int, n: int, moment: dt.datetime) -> list[list[object]]:
    return [[*row, moment.isoformat(sep=" ")] for row in valid_rows(DEATH, n, start=start)]


HEADERS = [c.header for c in DEATH.columns] + ["updated_at"]


def _lake(root: DataRoot, dataset: str = "wjw_death") -> pl.DataFrame:
    deliveries = pl.read_parquet(root.lake / "_deliveries.parquet").filter(pl.col("in_use"))
    files = [p for p in (root.lake / dataset).rglob("*.parquet") if not p.name.startswith("_")]
    frame = pl.concat([pl.read_parquet(p) for p in files]) if files else pl.DataFrame()
    return frame.filter(pl.col("_sha256").is_in(deliveries["sha256"].to_list())) if files else frame


def _watermark(root: DataRoot, dataset: str = "wjw_death") -> str | None:
    with ledger.open_ledger(root) as conn:
        return ledger.watermark(conn, dataset)


def _landings(root: DataRoot) -> list[tuple]:
    if not root.ledger.exists():
        return []
    with ledger.open_ledger(root) as conn:
        return [tuple(r) for r in conn.execute("SELECT file_name, status, rows_in, rows_landed FROM landings")]


# ---------------------------------------------------------------------------- increments


def test_an_increment_lands_new_rows_once_and_changed_rows_again(tmp_path: Path, pg, deaths: str) -> None:  # noqa: F811
    root = _root(tmp_path, pg, deaths)
    first = _death_rows(0, 3, dt.datetime(2026, 10, 20, 9))
    insert(pg, deaths, HEADERS, first)
    assert has_new_rows(root, "wjw_death", OCT)
    outcome = pull_dataset(root, "wjw_death", OCT)
    assert [(r.file_name, r.status, r.rows_in, r.rows_landed) for r in outcome.landings] == [
        (f"db:{CONNECTION}/wjw_death_20261031_1.parquet", "landed", 3, 3)
    ]
    assert _watermark(root) == "2026-10-20 09:00:00"
    # pulled again: nothing new, nothing recorded
    assert not has_new_rows(root, "wjw_death", OCT)
    assert pull_dataset(root, "wjw_death", OCT).status == "nothing_new"
    assert len(_landings(root)) == 1
    # a row changed after the pull and a new one: the next pull brings exactly these two
    key = first[1][0]
    pg.psql(f"update {deaths} set \"死亡原因\" = '肺炎', updated_at = '2026-10-25 10:00' where \"证明编号\" = '{key}'")
    insert(pg, deaths, HEADERS, _death_rows(10, 1, dt.datetime(2026, 10, 26, 8)))
    second = pull_dataset(root, "wjw_death", OCT).landings
    assert [(r.file_name, r.rows_landed) for r in second] == [(f"db:{CONNECTION}/wjw_death_20261031_2.parquet", 2)]
    lake = _lake(root)
    assert lake.height == 5  # both pulls stay in use: the second adds to the first, it does not replace it
    latest = lake.sort("_seq").unique("certificate_id", keep="last")
    assert latest.filter(pl.col("certificate_id") == first[1][0])["cause"].to_list() == ["肺炎"]
    assert _watermark(root) == "2026-10-26 08:00:00"


def test_an_update_time_after_the_cut_off_day_waits_for_a_later_pull(tmp_path: Path, pg, deaths: str) -> None:  # noqa: F811
    root = _root(tmp_path, pg, deaths)
    insert(pg, deaths, HEADERS, _death_rows(0, 2, dt.datetime(2026, 10, 31, 23, 59)))
    insert(pg, deaths, HEADERS, _death_rows(5, 1, dt.datetime(2026, 11, 1, 0, 0)))
    assert pull_dataset(root, "wjw_death", OCT).landings[0].rows_in == 2
    assert pull_dataset(root, "wjw_death", OCT).status == "nothing_new"
    later = pull_dataset(root, "wjw_death", NOV).landings
    assert [(r.cutoff_date, r.rows_in) for r in later] == [(NOV, 1)]


def test_rows_the_contract_rejects_are_quarantined_and_counted(tmp_path: Path, pg, deaths: str) -> None:  # noqa: F811
    root = _root(tmp_path, pg, deaths)
    rows = _death_rows(0, 4, dt.datetime(2026, 10, 2))
    rows[1][2] = "370102199001011235"  # wrong check digit
    rows[2][3] = "2027-01-01"  # death after the cut-off
    insert(pg, deaths, HEADERS, rows)
    (landing,) = pull_dataset(root, "wjw_death", OCT).landings
    assert (landing.rows_in, landing.rows_landed, landing.rows_rejected) == (4, 2, 2)
    with ledger.open_ledger(root) as conn:
        reasons = conn.execute("SELECT data_row, reason, raw_value FROM rejections ORDER BY data_row").fetchall()
    assert [tuple(r) for r in reasons] == [(2, "bad_check_digit", ""), (3, "death_after_cutoff", "2027-01-01")]
    assert landing.extra_columns == ["updated_at"]


# ---------------------------------------------------------------------------- snapshots


@pytest.fixture
def members(pg, request) -> str:  # noqa: F811
    table = f"qzk.members_{request.node.name[-40:].lower()}"
    columns = ", ".join(f'"{c.field}" text' for c in MEMBER.columns)
    pg.psql(f"drop table if exists {table}; create table {table} ({columns}, sjjzrq varchar(8));")
    return table


FIELDS = [c.field for c in MEMBER.columns]


def test_dated_snapshots_land_one_delivery_per_new_cut_off(tmp_path: Path, pg, members: str) -> None:  # noqa: F811
    root = _root(tmp_path, pg, members, "mz_member", "cutoff_column: sjjzrq\n")
    insert(pg, members, [*FIELDS, "sjjzrq"], [[*r, "20260930"] for r in valid_rows(MEMBER, 4)])
    insert(pg, members, [*FIELDS, "sjjzrq"], [[*r, "20261031"] for r in valid_rows(MEMBER, 5)])
    insert(pg, members, [*FIELDS, "sjjzrq"], [[*r, "20261130"] for r in valid_rows(MEMBER, 6)])
    landed = pull_dataset(root, "mz_member", OCT).landings
    assert [(r.cutoff_date, r.seq, r.rows_landed) for r in landed] == [
        (dt.date(2026, 9, 30), 1, 4),
        (OCT, 1, 5),
    ]
    assert pull_dataset(root, "mz_member", OCT).status == "nothing_new"
    assert [(r.cutoff_date, r.rows_landed) for r in pull_dataset(root, "mz_member", NOV).landings] == [(NOV, 6)]
    assert _watermark(root, "mz_member") == NOV.isoformat()


def test_a_full_read_lands_the_roster_and_a_changed_roster_replaces_it(tmp_path: Path, pg, members: str) -> None:  # noqa: F811
    root = _root(tmp_path, pg, members, "mz_member", "full_read: true\n")
    rows = valid_rows(MEMBER, 5)
    insert(pg, members, FIELDS, rows)
    assert has_new_rows(root, "mz_member", OCT)
    assert [r.status for r in pull_dataset(root, "mz_member", OCT).landings] == ["landed"]
    assert [r.status for r in pull_dataset(root, "mz_member", OCT).landings] == ["duplicate"]  # unchanged
    pg.psql(f"delete from {members} where household_id = '{rows[0][0]}' and id_number = '{rows[0][2]}'")
    (third,) = pull_dataset(root, "mz_member", OCT).landings
    assert (third.seq, third.status, third.rows_landed) == (3, "landed", 4)
    deliveries = pl.read_parquet(root.lake / "_deliveries.parquet")
    assert deliveries.select("seq", "in_use", "status").rows() == [(1, False, "superseded"), (3, True, "landed")]
    assert _lake(root, "mz_member").height == 4  # the roster as it is now: the deleted member is gone


# ---------------------------------------------------------------------------- failures


def _after_one_good_pull(tmp_path: Path, server, table: str) -> DataRoot:
    root = _root(tmp_path, server, table)
    insert(server, table, HEADERS, _death_rows(0, 2, dt.datetime(2026, 10, 3)))
    assert pull_dataset(root, "wjw_death", OCT).status == "landed"
    insert(server, table, HEADERS, _death_rows(20, 2, dt.datetime(2026, 10, 4)))  # waiting for the next pull
    return root


WM = "watermark: updated_at\n"
BREAKAGES = {
    "unreachable": ("secret", lambda s, t: s.tcp_url("x", "y").replace(f":{s.port}/", ":9/"), "cannot reach"),
    "wrong_password": ("secret", lambda s, t: s.url("exchange_reader", "wrong"), "refused the connection's"),
    "missing_table": ("source", lambda s, t: f"table: qzk.no_such_table\n{WM}", "does not exist"),
    "missing_column": (
        "source",
        lambda s, t: f'query: select "证明编号", "身份证号", updated_at from {t}\n{WM}',
        "missing required column(s) 姓名 (name), 死亡日期 (died_on)",
    ),
    "type_misfit": (
        "source",
        lambda s, t: f'query: select "证明编号", "姓名", "身份证号", true as "死亡日期", updated_at from {t}\n{WM}',
        "死亡日期 (死亡日期, date) is bool",
    ),
    "missing_watermark": ("source", lambda s, t: f"table: {t}\nwatermark: gxsj\n", "the watermark gxsj is not a"),
    "unmapped_column": (
        "source",
        lambda s, t: f"table: {t}\n{WM}columns: {{姓名: xm}}\n",
        "`columns:` maps 姓名 to xm",
    ),
    "readable_secrets": ("mode", lambda s, t: 0o644, "not owner-only"),
    "no_url": ("nourl", lambda s, t: None, "has no URL"),
}


@pytest.mark.parametrize("breakage", sorted(BREAKAGES))
def test_a_failed_pull_says_one_line_lands_nothing_and_keeps_the_watermark(
    tmp_path: Path,
    pg,  # noqa: F811
    deaths: str,
    breakage: str,
) -> None:
    root = _after_one_good_pull(tmp_path, pg, deaths)
    before = (_landings(root), _watermark(root), sorted(p.name for p in root.lake.rglob("*.parquet")))
    where, make, expected = BREAKAGES[breakage]
    if where == "secret":
        write_secret(root, {CONNECTION: make(pg, deaths)})
    elif where == "source":
        write_source(root, "wjw_death", f"connection: {CONNECTION}\n{make(pg, deaths)}")
    elif where == "mode":
        os.chmod(root.secrets / "databases.yaml", make(pg, deaths))
    else:
        (root.secrets / "databases.yaml").unlink()
    label = load_source(root, "wjw_death").label
    with pytest.raises(SourceError) as failure:
        pull_dataset(root, "wjw_death", OCT)
    message = str(failure.value)
    assert "\n" not in message
    assert message.startswith(f"wjw_death from database source {label}: "), message
    assert expected in message, message
    used = make(pg, deaths) if where == "secret" else reader_url(pg)
    assert not any(secret in message for secret in (READER_PASSWORD, used, urlsplit(used).password or "-"))
    assert (_landings(root), _watermark(root), sorted(p.name for p in root.lake.rglob("*.parquet"))) == before
    (outcome,) = pull_sources(root, OCT)  # a whole run reports it and goes on
    assert (outcome.status, outcome.message) == ("error", message)


def test_the_environment_names_the_url_before_the_secrets_file(
    tmp_path: Path,
    pg,  # noqa: F811
    deaths: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    root = _root(tmp_path, pg, deaths)
    write_secret(root, {CONNECTION: pg.url("exchange_reader", "wrong")})
    monkeypatch.setenv(url_env(CONNECTION), reader_url(pg))
    insert(pg, deaths, HEADERS, _death_rows(0, 1, dt.datetime(2026, 10, 3)))
    assert pull_dataset(root, "wjw_death", OCT).status == "landed"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("connection: qzk\ntable: t\n", "is an increment: set `watermark`"),
        ("connection: qzk\ntable: t\nquery: select 1\nwatermark: w\n", "exactly one of `table` and `query`"),
        ("connection: qzk\nquery: delete from t\nwatermark: w\n", "`query` must be a SELECT"),
        ("connection: q-k\ntable: t\nwatermark: w\n", "`connection` must be a name"),
        ("connection: qzk\ntable: t\nwatermark: w\ncolumns: {死者: x}\n", "names no column of the wjw_death contract"),
        ("connection: qzk\ntable: t\nwatermark: w\nschedule: daily\n", "unknown setting(s) schedule"),
    ],
)
def test_a_source_file_that_cannot_work_is_refused_before_connecting(tmp_path: Path, text: str, expected: str) -> None:
    root = DataRoot(tmp_path)
    write_source(root, "wjw_death", text)
    with pytest.raises(SourceError, match="^wjw_death from database source wjw_death.yaml: ") as failure:
        load_source(root, "wjw_death")
    assert expected in str(failure.value)


def test_a_snapshot_source_needs_a_cut_off_column_or_a_full_read(tmp_path: Path) -> None:
    root = DataRoot(tmp_path)
    write_source(root, "mz_member", "connection: qzk\ntable: t\nwatermark: w\n")
    with pytest.raises(SourceError, match="is a snapshot: set exactly one of `cutoff_column`"):
        load_source(root, "mz_member")


def test_the_command_line_pulls_and_names_a_failing_source(tmp_path: Path, pg, deaths: str) -> None:  # noqa: F811
    from typer.testing import CliRunner

    from warehouse.cli import app
    from warehouse.run import land_step

    root = _root(tmp_path, pg, deaths)
    insert(pg, deaths, HEADERS, _death_rows(0, 2, dt.datetime(2026, 10, 3)))
    done = CliRunner().invoke(app, ["pull", "--cutoff", "2026-10-31", "--data", str(root.root)])
    assert done.exit_code == 0, done.output
    assert _landings(root) == [(f"db:{CONNECTION}/wjw_death_20261031_1.parquet", "landed", 2, 2)]
    write_source(root, "mz_member", f"connection: {CONNECTION}\ntable: qzk.missing_roster\nfull_read: true\n")
    insert(pg, deaths, HEADERS, _death_rows(5, 1, dt.datetime(2026, 10, 4)))
    landed = land_step(root, cutoff=OCT)  # what `safetynet run` does first: pulls (a failing source is logged)
    assert [(r.file_name, r.rows_landed) for r in landed] == [(f"db:{CONNECTION}/wjw_death_20261031_2.parquet", 1)]
    done = CliRunner().invoke(app, ["pull", "--data", str(root.root)])
    assert done.exit_code == 1
    assert "mz_member from database source qzk/qzk.missing_roster: the table does not exist" in done.output
    assert READER_PASSWORD not in done.output


def test_a_pull_lands_again_from_its_raw_copy(tmp_path: Path, pg, deaths: str, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    """What a rebuild does with a pull: its raw Parquet, ledger name and `pulls` row give the same lake rows."""
    from ingestion.delivery import Delivery, Pull
    from ingestion.landing import land_delivery

    monkeypatch.setenv("SAFETYNET_PSEUDONYM_KEY", "12" * 32)
    root = _root(tmp_path, pg, deaths)
    rows = _death_rows(0, 3, dt.datetime(2026, 10, 2))
    rows[0][2] = "bad id"
    insert(pg, deaths, HEADERS, rows)
    (first,) = pull_dataset(root, "wjw_death", OCT).landings
    with ledger.open_ledger(root) as conn:
        recorded = conn.execute(
            "SELECT dataset, source, mode, watermark_column, watermark_from, watermark_to, rows_pulled FROM pulls"
        ).fetchone()
    raw = root.raw / str(first.sha256)
    fresh = DataRoot(tmp_path / "fresh")
    delivery = Delivery(raw, first.file_name, "wjw_death", OCT, first.seq, "parquet", pull=Pull(*recorded))
    again = land_delivery(fresh, delivery)
    assert (again.status, again.sha256, again.rows_landed, again.rows_rejected) == ("landed", first.sha256, 2, 1)
    assert raw.exists()  # the raw copy it was landed from stays
    assert _lake(fresh).sort("_data_row").equals(_lake(root).sort("_data_row"))
    assert _watermark(fresh) == _watermark(root) == "2026-10-02 00:00:00"


def test_a_truncated_pull_is_held_back_by_the_checks_like_a_file(tmp_path: Path, pg, members: str) -> None:  # noqa: F811
    from expectations.runner import check_pending

    root = _root(tmp_path, pg, members, "mz_member", "cutoff_column: sjjzrq\n")
    insert(pg, members, [*FIELDS, "sjjzrq"], [[*r, "20260930"] for r in valid_rows(MEMBER, 200)])
    insert(pg, members, [*FIELDS, "sjjzrq"], [[*r, "20261031"] for r in valid_rows(MEMBER, 60)])  # cut short
    assert len(pull_dataset(root, "mz_member", OCT).landings) == 2
    summary = check_pending(root)
    assert [(d.delivery.file_name, d.held) for d in summary.deliveries] == [
        (f"db:{CONNECTION}/mz_member_20260930_1.parquet", False),
        (f"db:{CONNECTION}/mz_member_20261031_1.parquet", True),
    ]
    in_use = pl.read_parquet(root.lake / "_deliveries.parquet").select("cutoff_date", "in_use").rows()
    assert in_use == [(dt.date(2026, 9, 30), True), (OCT, False)]  # the build keeps the last good roster


def test_pulled_values_read_as_the_text_a_file_would_hold(tmp_path: Path) -> None:
    """Database types → the text landing normalises: a month from a date, a moment on China's calendar."""
    import decimal

    import pyarrow as pa
    import pyarrow.parquet as pq

    from ingestion.readers import open_parquet

    payment = load_contract("mz_payment")
    headers = {c.field: c.header for c in payment.columns}
    table = pa.table(
        {
            headers["payment_id"]: pa.array([7001, 7002], pa.int64()),
            headers["period"]: pa.array([dt.date(2026, 3, 1), None], pa.date32()),
            headers["household_id"]: ["H1", "H2"],
            headers["id_number"]: ["11010519491231002X", None],
            headers["programme"]: ["低保金", "临时救助金"],
            headers["amount"]: pa.array([decimal.Decimal("1234.50"), decimal.Decimal("-30.00")], pa.decimal128(14, 2)),
            headers["paid_on"]: pa.array(
                [dt.datetime(2026, 3, 4, 17, 30), dt.datetime(2026, 3, 5, 1)], pa.timestamp("us", "UTC")
            ),
            "gxsj": pa.array([dt.datetime(2026, 3, 6, 8)], pa.timestamp("us")).take([0, 0]),
        }
    )
    pq.write_table(table, tmp_path / "pulled.parquet")
    source = open_parquet(tmp_path / "pulled.parquet", payment)
    (batch,) = list(source.batches(False))
    assert source.header.extras == [(8, "gxsj")] and not source.header.missing  # (column, header)
    assert batch.select("payment_id", "period", "id_number", "amount", "paid_on", "_data_row").rows() == [
        ("7001", "2026-03", "11010519491231002X", "1234.50", "2026-03-05 01:30:00.000000", 1),
        ("7002", "", "", "-30.00", "2026-03-05 09:00:00.000000", 2),
    ]
