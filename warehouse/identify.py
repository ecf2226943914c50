"""Identification (认定) results of a run, read from the published mart for `safetynet identify`.

The published mart (`<root>/published/monitoring.duckdb`) is opened read-only and closed at once: it is
replaced atomically after each run. Each trace entry is shown as the platform decided it (every decision keeps
its trace: docs/rules.md#identification-认定), in Chinese, so staff can show an applicant why.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
from rich.console import Group
from rich.table import Table
from rich.text import Text

from ingestion.settings import DataRoot
from warehouse.exports.mart import open_published

log = logging.getLogger(__name__)

PUBLISHED_FILE = "monitoring.duckdb"
TABLE = "fct_identification"
COLUMNS = (
    "application_id", "household_id", "review_kind", "result_category", "individual_cover_keys",
    "temp_assistance_amount", "trace", "applied_on", "deadline", "overdue", "from_cutoff", "to_cutoff",
    "previous_category", "run_date",
)  # fmt: skip
OUTCOME_STYLE = {"符合": "green", "不符合": "red"}


class IdentificationUnavailable(RuntimeError):
    """No published mart, no identification table in it, or a mart built for another run date."""


@dataclass(frozen=True)
class TraceEntry:
    seq: int
    category: str
    test: str
    figures: str
    outcome: str


def published_path(root: DataRoot) -> Path:
    return root.published / PUBLISHED_FILE


def read_identifications(root: DataRoot, run_date: dt.date) -> pl.DataFrame:
    """Every decision of the published run at `run_date` (applications first, then exit reviews)."""
    path = published_path(root)
    if not path.exists():
        raise IdentificationUnavailable(f"no published mart at {path}: run the pipeline for {run_date} first")
    with open_published(root) as con:  # MartBusy (one line) when an analyst holds it open for writing
        tables = {row[0] for row in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        if TABLE not in tables:
            raise IdentificationUnavailable(f"the published mart {path} has no {TABLE}")
        frame = con.sql(f"SELECT {', '.join(COLUMNS)} FROM {TABLE}").pl()
    log.debug("read %d identification rows from %s", frame.height, path)
    built_for = set(frame["run_date"].unique().to_list())
    if frame.height and built_for != {run_date}:
        dates = ", ".join(sorted(str(d) for d in built_for))
        raise IdentificationUnavailable(f"the published mart holds the run of {dates}, not {run_date}")
    order = pl.when(pl.col("review_kind") == "退出复核").then(1).otherwise(0)
    return frame.sort(order, "application_id", "household_id", "from_cutoff", nulls_last=True)


def find_application(frame: pl.DataFrame, application_id: str) -> dict[str, Any]:
    """The row of one application; raises KeyError naming it when the run has no such application."""
    hits = frame.filter(pl.col("application_id") == application_id.strip())
    if hits.height == 0:
        raise KeyError(f"no application {application_id!r} in this run")
    return hits.row(0, named=True)


def parse_trace(trace: str | None) -> list[TraceEntry]:
    """The JSON trace of fct_identification as entries, in order."""
    entries = json.loads(trace or "[]")
    return [
        TraceEntry(int(e["序号"]), e["类别"], e["检验"], e["依据"], e["结果"])
        for e in sorted(entries, key=lambda e: int(e["序号"]))
    ]


def _money(value: Any) -> str:
    return f"¥{float(value or 0):,.2f}"


def _keys(value: str | None, short: bool) -> str:
    keys = [k for k in (value or "").split("|") if k]
    if not keys:
        return "—"
    return "、".join(k[:8] + "…" if short else k for k in keys)


def _subject(row: dict[str, Any]) -> str:
    if row["application_id"]:
        return row["application_id"]
    return f"{row['household_id']}（{row['from_cutoff']}→{row['to_cutoff']}）"


def summary_table(frame: pl.DataFrame, run_date: dt.date) -> Table:
    """One line per decision: result, 单人保, 临时救助, deadline."""
    table = Table(title=f"{run_date} 认定结果（{frame.height} 件）", show_lines=False)
    for header, justify in (
        ("申请编号 / 家庭编号", "left"), ("审核类型", "left"), ("认定结果", "left"), ("单人保", "left"),
        ("临时救助", "right"), ("申请日期", "left"), ("审核期限", "left"),
    ):  # fmt: skip
        table.add_column(header, justify=justify)  # type: ignore[arg-type]
    for row in frame.iter_rows(named=True):
        deadline = str(row["deadline"] or "—") + ("（逾期）" if row["overdue"] else "")
        table.add_row(
            _subject(row), row["review_kind"], row["result_category"], _keys(row["individual_cover_keys"], short=True),
            _money(row["temp_assistance_amount"]), str(row["applied_on"] or "—"), deadline,
        )  # fmt: skip
    return table


def counts_line(frame: pl.DataFrame) -> str:
    """认定结果 counts, overdue applications, 单人保 people and the 临时救助 total."""
    by_result = frame.group_by("result_category").len().sort("result_category")
    parts = [f"{r}{n} 件" for r, n in by_result.iter_rows()]
    people = sum(len([k for k in (v or "").split("|") if k]) for v in frame["individual_cover_keys"].to_list())
    temp = sum(float(v or 0) for v in frame["temp_assistance_amount"].to_list())
    overdue = int(frame["overdue"].fill_null(False).sum())
    return "；".join(parts) + f"。逾期 {overdue} 件；单人保 {people} 人；临时救助合计 {_money(temp)}。"


def trace_view(row: dict[str, Any]) -> Group:
    """One decision with its trace: each test, its figures and outcome."""
    head = Table.grid(padding=(0, 2))
    head.add_column(style="bold")
    head.add_column()
    head.add_row("申请编号", row["application_id"] or "—")
    if row["household_id"]:
        head.add_row(
            "家庭编号",
            f"{row['household_id']}（原类别 {row['previous_category']}，{row['from_cutoff']}→{row['to_cutoff']}）",
        )
    head.add_row("审核类型", row["review_kind"])
    head.add_row("认定结果", Text(row["result_category"], style="bold"))
    head.add_row("单人保", _keys(row["individual_cover_keys"], short=False))
    head.add_row("临时救助", _money(row["temp_assistance_amount"]))
    deadline = str(row["deadline"] or "—") + ("（逾期）" if row["overdue"] else "")
    head.add_row("申请日期 / 审核期限", f"{row['applied_on'] or '—'} / {deadline}")
    trace = Table(title="认定过程", show_lines=True)
    for header in ("序号", "类别", "检验", "依据", "结果"):
        trace.add_column(header, overflow="fold")
    for e in parse_trace(row["trace"]):
        trace.add_row(
            str(e.seq), e.category, e.test, e.figures, Text(e.outcome, style=OUTCOME_STYLE.get(e.outcome, ""))
        )
    return Group(head, trace)
