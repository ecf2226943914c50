"""Answers back: returned warning workbooks land as the `feedback` dataset (docs/extracts.md#datasets).

`receive_feedback` copies each returned file into the inbox under the spec's name
(`feedback/feedback_<YYYYMMDD>[_<seq>].xlsx`, today's date, next free seq), remembers which county's
workbook it is (the 说明 sheet's 县区代码, else the file name's leading code) and lands it through the
generic landing. `feedback_row_checks` is the dataset's row validation: a 预警编号 the platform never
issued is `unknown_warning`; one issued to another county is `other_county`. The next build closes the
answered warnings.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from ingestion.dates import china_today
from ingestion.normalise import RowCheck  # (bad-row expression, field, reason code, message)
from ingestion.settings import DataRoot
from warehouse.exports.layout import COUNTY_CODE_LABEL, NOTES_SHEET, PROVINCE_CODE
from warehouse.exports.ledger import feedback_file_county, record_feedback_file
from warehouse.exports.mart import MartMissing, read_tables
from warehouse.exports.rows import split_warning_ids

log = logging.getLogger(__name__)

DATASET = "feedback"
UNKNOWN_WARNING = "unknown_warning"
OTHER_COUNTY = "other_county"
_CODE_IN_NAME = re.compile(r"^(\d{6})_")
_SUFFIXES = (".xlsx", ".csv")


# --- which county a returned file belongs to ------------------------------------------------------


def county_of_file(path: Path) -> str | None:
    """The county code a returned workbook names on its 说明 sheet, else its file name's leading code."""
    if path.suffix.lower() == ".xlsx":
        code = _county_from_notes(path)
        if code:
            return code
    match = _CODE_IN_NAME.match(path.name)
    return match.group(1) if match else None


def _county_from_notes(path: Path) -> str | None:
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # an unreadable file is the landing's to reject, with its reason
        log.warning("cannot open %s to find its county: %s", path.name, error)
        return None
    try:
        if NOTES_SHEET not in book.sheetnames:
            return None
        for row in book[NOTES_SHEET].iter_rows(min_col=1, max_col=2, max_row=50, values_only=True):
            if row and str(row[0] or "").strip() == COUNTY_CODE_LABEL:
                code = _as_code(row[1])
                return code if code and re.fullmatch(r"\d{6}", code) else None
        return None
    finally:
        book.close()


def _as_code(value: Any) -> str | None:
    """A code cell as text; a spreadsheet may have turned it into a number on the way back."""
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


# --- the row checks (a landing hook for the feedback dataset) ---------------------------------------


def issued_warnings(root: DataRoot) -> pl.DataFrame:
    """warning_id, county_code of every warning in the published register (empty before the first run)."""
    try:
        register = read_tables(root, ["fct_warnings"])["fct_warnings"]
    except MartMissing:
        log.warning("no published mart yet: every 预警编号 in feedback is unknown")
        register = None
    if register is None:
        return pl.DataFrame(schema={"warning_id": pl.String, "county_code": pl.String})
    return register.select(pl.col("warning_id").cast(pl.String), pl.col("county_code").cast(pl.String))


def feedback_row_checks(root: DataRoot, county_code: str | None) -> list[RowCheck]:
    """Row checks for feedback from `county_code`'s workbook (None: county unknown, only issued-ness).

    Each check is evaluated on a frame of the landed feedback fields (`warning_id`, …); a row where the
    expression is true is rejected with the reason code.
    """
    issued = issued_warnings(root)
    ids = split_warning_ids(pl.col("warning_id"))  # a merged row of the workbook lists several numbers
    known = issued["warning_id"].to_list()
    checks: list[RowCheck] = [(
        ids.list.eval(~pl.element().is_in(known)).list.any().fill_null(False), "warning_id", UNKNOWN_WARNING,
        "预警编号不存在：平台从未发出该预警",
    )]  # fmt: skip
    if county_code:
        elsewhere = issued.filter(pl.col("county_code") != county_code)["warning_id"].to_list()
        where = "省级" if county_code == PROVINCE_CODE else f"县区 {county_code}"
        checks.append((
            ids.list.eval(pl.element().is_in(elsewhere)).list.any().fill_null(False), "warning_id", OTHER_COUNTY,
            f"该预警不属于本表（{where}）派发的预警",
        ))  # fmt: skip
    return checks


def feedback_checks_for_file(root: DataRoot, file_name: str, path: Path | None = None) -> list[RowCheck]:
    """The checks for one inbox file: its county remembered at receipt, else read from the file."""
    county = feedback_file_county(root, file_name)
    if county is None and path is not None:
        county = county_of_file(path)
    return feedback_row_checks(root, county)


def apply_checks(frame: pl.DataFrame, checks: list[RowCheck]) -> pl.DataFrame:
    """The rows that fail a check: data row (when present), warning id, field, reason, message."""
    failed = []
    for expression, field_name, reason, message in checks:
        bad = frame.filter(expression)
        if bad.height:
            row = pl.col("_data_row") if "_data_row" in frame.columns else pl.lit(None, dtype=pl.Int64)
            failed.append(bad.select(
                row.alias("data_row"), pl.col("warning_id"), pl.lit(field_name).alias("field"),
                pl.lit(reason).alias("reason"), pl.lit(message).alias("message"),
            ))  # fmt: skip
    schema = {
        "data_row": pl.Int64,
        "warning_id": pl.String,
        "field": pl.String,
        "reason": pl.String,
        "message": pl.String,
    }
    return pl.concat(failed, how="vertical_relaxed") if failed else pl.DataFrame(schema=schema)


# --- receiving a returned file ----------------------------------------------------------------------


@dataclass
class FeedbackReceipt:
    source: Path
    inbox_name: str  # relative to the inbox, e.g. feedback/feedback_20261105_2.xlsx
    county_code: str | None
    landing: Any = None  # what the landing returned
    problems: pl.DataFrame = field(default_factory=pl.DataFrame)  # rows failing the checks after landing
    warnings_answered: int = 0  # warning numbers the landed rows answer (a merged row answers several)

    def counts(self) -> dict[str, int]:
        return {
            k: int(getattr(self.landing, k, 0) or 0)
            for k in ("rows_in", "rows_landed", "rows_rejected", "rows_skipped")
        } | {"warnings_answered": self.warnings_answered}

    @property
    def status(self) -> str:
        return str(getattr(self.landing, "status", "not landed"))


def inbox_name(root: DataRoot, today: dt.date, suffix: str) -> tuple[str, Path]:
    """The next free delivery name for today: bare first, then _2, _3 … (inbox files and ledger both count)."""
    used = _used_seqs(root, today)
    seq = max(used, default=0) + 1
    stem = f"{DATASET}_{today:%Y%m%d}" + ("" if seq == 1 else f"_{seq}")
    name = f"{DATASET}/{stem}{suffix}"
    return name, root.inbox / name


def _used_seqs(root: DataRoot, today: dt.date) -> set[int]:
    pattern = re.compile(rf"^{DATASET}_{today:%Y%m%d}(?:_(\d+))?\.(xlsx|csv)$", re.I)
    used = set()
    for folder in (root.inbox, root.inbox / DATASET):
        if folder.is_dir():
            used |= {int(m.group(1) or 1) for p in folder.iterdir() if (m := pattern.match(p.name))}
    if root.ledger.exists():
        from ingestion.ledger import open_ledger

        with open_ledger(root) as con:
            rows = con.execute(
                "SELECT seq FROM landings WHERE dataset = ? AND cutoff_date = ? AND seq IS NOT NULL",
                (DATASET, today.isoformat()),
            ).fetchall()
        used |= {int(r[0]) for r in rows}
    return used


def _copy_exclusive(source: Path, root: DataRoot, today: dt.date) -> tuple[str, Path]:
    """Copy under the next free name; O_EXCL so two receivers at once never take the same name."""
    for _ in range(100):
        name, target = inbox_name(root, today, source.suffix.lower())
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            continue
        with os.fdopen(fd, "wb") as out, source.open("rb") as src:
            shutil.copyfileobj(src, out)
        return name, target
    raise RuntimeError(f"no free feedback name for {today}")


def receive_feedback(root: DataRoot, paths: list[Path], today: dt.date | None = None) -> list[FeedbackReceipt]:
    """Copy each returned file into the inbox, land it, and check its rows against the register."""
    from ingestion.rawstore import hash_file

    today = today or china_today()
    wrong = [p.name for p in paths if p.suffix.lower() not in _SUFFIXES]
    if wrong:  # before anything is copied: all or nothing
        raise ValueError(f"feedback must be .xlsx or .csv: {', '.join(wrong)}")
    receipts = []
    for source in paths:
        county = county_of_file(source)
        name, target = _copy_exclusive(source, root, today)
        record_feedback_file(root, name, source.name, county, hash_file(target))
        log.info("feedback %s → inbox %s (county %s)", source.name, name, county or "unknown")
        receipt = FeedbackReceipt(source, name, county)
        receipt.landing = _land(root, target, feedback_row_checks(root, county))
        receipt.problems = _rejected_by_checks(root, receipt)
        receipt.warnings_answered = answered_warnings(root, receipt.landing)
        receipts.append(receipt)
    return receipts


def _land(root: DataRoot, target: Path, checks: list[RowCheck]) -> Any:
    from ingestion.landing import land_file

    return land_file(root, target, root.inbox, extra_checks=checks)


def answered_warnings(root: DataRoot, landing: Any) -> int:
    """How many warning numbers the landed rows of one feedback delivery answer."""
    sha = getattr(landing, "sha256", None)
    if getattr(landing, "status", None) != "landed" or not sha:
        return 0
    files = list((root.lake / DATASET).glob(f"cutoff=*/seq=*/{sha}.parquet"))
    if not files:
        return 0
    cells = pl.read_parquet(files[0], columns=["warning_id"])
    return int(cells.select(split_warning_ids(pl.col("warning_id")).list.len().sum()).item() or 0)


def _rejected_by_checks(root: DataRoot, receipt: FeedbackReceipt) -> pl.DataFrame:
    """The rows the landing rejected as never issued or issued to another county (from the ledger)."""
    from ingestion import ledger

    with ledger.open_ledger(root) as conn:
        rows = conn.execute(
            "SELECT data_row, raw_value, field, reason, message FROM rejections "
            "WHERE file_name = ? AND reason IN (?, ?) ORDER BY data_row",
            (receipt.inbox_name, UNKNOWN_WARNING, OTHER_COUNTY),
        ).fetchall()
    problems = pl.DataFrame(
        [tuple(r) for r in rows],
        schema={"data_row": pl.Int64, "warning_id": pl.String, "field": pl.String, "reason": pl.String,
                "message": pl.String},
        orient="row",
    )  # fmt: skip
    for row in problems.iter_rows(named=True):
        log.warning("%s row %s: %s (%s)", receipt.inbox_name, row["data_row"], row["reason"], row["warning_id"])
    return problems
