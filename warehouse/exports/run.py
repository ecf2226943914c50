"""One run's exports: a workbook per county with open warnings, the province summary, the run report.

`export_run(root, run_date)` is what `safetynet export` and `safetynet run` call. Everything is read
from the published mart (and names and IDs from the vault); every file written is recorded in the
ledger. An export is written into a new folder beside `exports/<run date>/` and swapped in whole, so the
folder always shows one consistent export. Nothing a county already received is deleted: an earlier export of
the same date is kept as `exports/<run date>.replaced-<UTC time>/` (and the ledger's rows of its files say so).
Everything under `exports/` is owner-only: the workbooks hold names and ID numbers.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from ingestion import scratch
from ingestion.private import private_dir, private_file
from ingestion.reference import Reference, load_reference
from ingestion.settings import DataRoot
from ingestion.vault import identities
from warehouse.exports import province
from warehouse.exports.layout import LEVELS, PROVINCE_CODE, PROVINCE_NAME, workbook_name
from warehouse.exports.ledger import ExportRecord, move_export_records, record_exports
from warehouse.exports.mart import warnings_and_households
from warehouse.exports.rows import COUNTY, merge_monthly, open_warnings, summary_by_township, workbook_rows
from warehouse.exports.workbook import (
    Dispatch,
    write_atomically,
    write_list_sheet,
    write_notes_sheet,
    write_table_sheet,
)

log = logging.getLogger(__name__)

Progress = Callable[[str], None]
_DEADLINE_PARAMETERS = {
    "红": "deadline_red_working_days", "橙": "deadline_orange_working_days", "黄": "deadline_yellow_working_days",
}  # fmt: skip


_PROVINCE_NOTE = "本汇总表的“预警清单”为省级派发的预警（户籍不在本省、无法派发到县区的主动发现线索），同样可填写回传。"


@dataclass(frozen=True)
class ExportedFile:
    kind: str  # county_workbook | province_workbook | run_report
    county_code: str | None
    path: Path
    rows: int


@dataclass
class ExportSummary:
    run_date: dt.date
    folder: Path
    files: list[ExportedFile] = field(default_factory=list)

    @property
    def county_workbooks(self) -> list[ExportedFile]:
        return [f for f in self.files if f.kind == "county_workbook"]

    @property
    def warnings_exported(self) -> int:
        return sum(f.rows for f in self.files if f.kind in ("county_workbook", "province_workbook"))

    def __str__(self) -> str:
        return (
            f"exports {self.run_date}: {len(self.county_workbooks)} county workbooks, "
            f"{self.warnings_exported} open warnings, {len(self.files)} files in {self.folder}"
        )


def export_run(
    root: DataRoot, run_date: dt.date, report: bool = True, progress: Progress | None = None
) -> ExportSummary:
    """Write the run's workbooks (and report) from the published mart into `exports/<run date>/`."""
    say = progress or log.info
    warnings, households = warnings_and_households(root, run_date)
    reference = load_reference(root)
    rows = _rows(root, warnings, households, reference)
    folder = root.exports / run_date.isoformat()
    staging = _staging_folder(root, folder)
    try:
        summary = ExportSummary(run_date, staging)
        say(f"workbooks for {rows.get_column(COUNTY).n_unique()} dispatch areas …")
        summary.files += _county_workbooks(staging, rows, reference, run_date)
        summary.files.append(_province_workbook(staging, rows, reference, run_date))
        if report:
            from warehouse.exports.report import write_report

            say("run report …")
            path = private_file(write_report(root, run_date, folder=staging))
            summary.files.append(ExportedFile("run_report", None, path, warnings.height))
        else:
            _keep_report(folder, staging, run_date)
        _swap_in(root, staging, folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    summary.folder = folder
    summary.files = [dataclasses.replace(f, path=folder / f.path.name) for f in summary.files]
    record_exports(root, [_record(root, run_date, f) for f in summary.files])
    log.info("%s", summary)
    return summary


def _rows(root: DataRoot, warnings: pl.DataFrame, households: pl.DataFrame, reference: Reference) -> pl.DataFrame:
    open_ = open_warnings(warnings).join(
        households.select("household_id", "head_person_key"), on="household_id", how="left"
    )
    people = identities(root, [*open_["person_key"].to_list(), *open_["head_person_key"].to_list()])
    return workbook_rows(
        warnings,
        households,
        people,
        township_names=_township_names(reference),
        village_names=dict(reference.villages.iter_rows()),
    )


def _township_names(reference: Reference) -> dict[str, str]:
    """Township names where the regions file has them (the shipped one names every township)."""
    regions = reference.regions
    if "township_name" not in regions.columns:
        return {}
    named = regions.drop_nulls(["township_code", "township_name"])
    return dict(zip(named["township_code"].to_list(), named["township_name"].to_list()))


def _dispatch(reference: Reference, county_code: str, run_date: dt.date) -> Dispatch:
    deadlines = {
        level: int(reference.parameter(_DEADLINE_PARAMETERS[level], county_code, run_date)) for level in LEVELS
    }
    if county_code == PROVINCE_CODE:
        return Dispatch(county_code, PROVINCE_NAME, PROVINCE_NAME, run_date, deadlines, (_PROVINCE_NOTE,))
    place = reference.counties().filter(pl.col("county_code") == county_code)
    if place.is_empty():
        log.warning("county %s is not in regions.csv: its workbook is named by code only", county_code)
        return Dispatch(county_code, "未知县区", "", run_date, deadlines)
    return Dispatch(county_code, place["county_name"][0], place["city_name"][0], run_date, deadlines)


def _county_workbooks(folder: Path, rows: pl.DataFrame, reference: Reference, run_date: dt.date) -> list[ExportedFile]:
    written = []
    county_rows = rows.filter(pl.col(COUNTY) != PROVINCE_CODE)
    for (county_code,), group in sorted(county_rows.partition_by(COUNTY, as_dict=True).items()):
        dispatch = _dispatch(reference, county_code, run_date)
        path = folder / workbook_name(county_code, dispatch.county_name, run_date.isoformat())

        def fill(book, fmt, group=group, dispatch=dispatch):  # noqa: ANN001 - xlsxwriter objects
            write_list_sheet(book, fmt, merge_monthly(group))
            write_table_sheet(book, fmt, "汇总", summary_by_township(group), total_row=True)
            write_notes_sheet(book, fmt, dispatch, group)

        write_atomically(path, fill)
        written.append(ExportedFile("county_workbook", county_code, path, group.height))
    return written


def _province_workbook(folder: Path, rows: pl.DataFrame, reference: Reference, run_date: dt.date) -> ExportedFile:
    dispatch = _dispatch(reference, PROVINCE_CODE, run_date)
    own = rows.filter(pl.col(COUNTY) == PROVINCE_CODE)
    placed = province.with_places(rows, reference.counties())
    path = folder / workbook_name(PROVINCE_CODE, PROVINCE_NAME, run_date.isoformat())

    def fill(book, fmt):  # noqa: ANN001 - xlsxwriter objects
        # first sheet: the province-level warnings, answerable like a county's
        write_list_sheet(book, fmt, merge_monthly(own))
        write_table_sheet(book, fmt, "市汇总", province.by_city(placed), total_row=True)
        write_table_sheet(book, fmt, "县区汇总", province.by_county(placed), total_row=True)
        write_table_sheet(book, fmt, "规则汇总", province.by_rule(placed), total_row=True)
        write_table_sheet(book, fmt, "分县分规则", province.by_county_rule_level(placed))
        write_notes_sheet(book, fmt, dispatch, own)

    write_atomically(path, fill)
    return ExportedFile("province_workbook", PROVINCE_CODE, path, own.height)


def _staging_folder(root: DataRoot, folder: Path) -> Path:
    """A new owner-only folder beside the date's folder, named after this process (swept if it stops)."""
    private_dir(root.exports)
    return private_dir(scratch.temp_path(folder))


def _keep_report(folder: Path, staging: Path, run_date: dt.date) -> None:
    """A workbooks-only export keeps the date's run report (a link to the same file: nothing is copied)."""
    from warehouse.exports.report import report_name

    report = folder / report_name(run_date)
    if report.is_file():
        os.link(report, staging / report.name)


def _swap_in(root: DataRoot, staging: Path, folder: Path) -> Path | None:
    """Put the new export in place of the date's folder; an earlier one is kept beside it, never deleted.
    Returns where the earlier export now is."""
    kept = None
    if folder.exists():
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
        kept = folder.with_name(f"{folder.name}.replaced-{stamp}")
        folder.rename(kept)
        move_export_records(root, folder, kept)
        log.info("the earlier export of %s is kept as %s", folder.name, kept.name)
    staging.rename(folder)
    return kept


def _record(root: DataRoot, run_date: dt.date, exported: ExportedFile) -> ExportRecord:
    return ExportRecord(
        run_date, exported.kind, exported.county_code, str(exported.path.relative_to(root.root)), exported.rows
    )
