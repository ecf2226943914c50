"""Reading a delivered file into raw string batches with row numbers (docs/extracts.md#delivering-a-file).

Every reader yields the same shape: one string column per contract field (`""` when empty or absent),
`_data_row` (1-based under the header), `_source_line` (CSV line or sheet row), `_problem` (why a row
cannot be read at all, e.g. a ragged row) and, per `id` field, `_num_<field>` (the cell was a number).

CSV is read by pyarrow's streaming reader (fast, multi-line quoted fields); if a row has the wrong
number of fields, the line count does not add up (blank lines inside) or a row has no value in any field, the
file is read again by Python's csv module, which is slow but knows every row's physical line. A pull from an
exchange database arrives as Parquet in the database's types (`open_parquet`), turned into the same text batches.

A row with no value in any cell (`,,,,` in CSV, an empty or spaces-only row in XLSX, as spreadsheets leave below
the data) is not a data row: like a blank line, it is neither landed nor rejected and not counted.
"""

from __future__ import annotations

import codecs
import csv
import logging
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from queue import Empty, Queue

import polars as pl
import pyarrow as pa
import pyarrow.csv as pacsv

from ingestion.contracts import Contract, header_key
from ingestion.dates import CHINA_TZ_NAME
from ingestion.header_check import looks_like_data_row
from ingestion.rawstore import CHUNK, LINE_WINDOW, RawScan

log = logging.getLogger(__name__)

BLOCK_SIZE = 32 << 20  # pyarrow block: bounds a batch (~230k rows) and refuses a record longer than it
SLOW_BATCH = 100_000
FIELD_LIMIT = 2 * LINE_WINDOW
MAX_TITLE_ROWS = 5

# whole-file reason codes (docs/extracts.md#reason-codes)
UNDECODABLE = "undecodable"
UNREADABLE = "unreadable"
EMPTY_FILE = "empty_file"
MISSING_COLUMN = "missing_required_column"
MISSING_HEADER = "missing_header"


class FileRejected(Exception):
    """The whole file cannot be landed; `reason` is a code of docs/extracts.md#reason-codes."""

    def __init__(self, reason: str, message: str, rows_in: int | None = None):
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.rows_in = rows_in


class SlowPathNeeded(Exception):
    """The fast CSV reader met something only the exact (slow) reader numbers correctly."""


@dataclass
class HeaderMap:
    """Which delivered column holds each contract field."""

    headers: list[str]  # as delivered
    positions: dict[str, int] = field(default_factory=dict)  # field → column index
    extras: list[tuple[int, str]] = field(default_factory=list)  # (1-based column, header) not in the contract
    missing: list[str] = field(default_factory=list)  # required headers not found
    duplicates: list[str] = field(default_factory=list)  # contract headers found twice
    matched: int = 0
    scales: dict[str, str] = field(default_factory=dict)  # field → factor of a header with a unit (`(万元)`)

    def header_of(self, field_name: str, contract: Contract) -> str:
        pos = self.positions.get(field_name)
        return self.headers[pos] if pos is not None else contract.column(field_name).header


@dataclass
class Source:
    """A readable file: its header map and a way to iterate its batches (possibly more than once)."""

    header: HeaderMap
    encoding: str
    batches: Callable[[bool], Iterator[pl.DataFrame]]  # argument: use the exact (slow) CSV reader
    estimated_rows: int = 0


def map_headers(headers: list[str], contract: Contract) -> HeaderMap:
    by_key = {col.key: (col, None) for col in contract.columns}
    by_key |= {key: (col, factor) for col in contract.columns for key, factor in col.unit_keys().items()}
    hmap = HeaderMap(headers=list(headers))
    for index, header in enumerate(headers):
        col, factor = by_key.get(header_key(header), (None, None))
        if col is None:
            if header_key(header):
                hmap.extras.append((index + 1, header))
            continue
        if col.field in hmap.positions:
            hmap.duplicates.append(col.header)
            continue
        hmap.positions[col.field] = index
        if factor is not None:
            hmap.scales[col.field] = factor
    hmap.matched = len(hmap.positions)
    hmap.missing = [c.header for c in contract.columns if c.required and c.field not in hmap.positions]
    return hmap


def standard_frame(
    columns: list[pl.Series],
    hmap: HeaderMap,
    contract: Contract,
    data_rows: pl.Series,
    lines: pl.Series,
    problems: pl.Series | None = None,
    numbers: dict[str, pl.Series] | None = None,
) -> pl.DataFrame:
    """The common batch shape from positional string columns."""
    height = len(data_rows)
    out: dict[str, pl.Series] = {}
    for col in contract.columns:
        pos = hmap.positions.get(col.field)
        if pos is None or pos >= len(columns):
            out[col.field] = pl.repeat("", height, dtype=pl.String, eager=True).alias(col.field)
        else:
            out[col.field] = columns[pos].cast(pl.String).fill_null("").alias(col.field)
    out["_data_row"] = data_rows.cast(pl.Int64).alias("_data_row")
    out["_source_line"] = lines.cast(pl.Int64).alias("_source_line")
    out["_problem"] = (
        problems if problems is not None else pl.repeat(None, height, dtype=pl.String, eager=True)
    ).alias("_problem")
    for col in contract.columns:
        if col.kind == "id":
            flag = (numbers or {}).get(col.field)
            out[f"_num_{col.field}"] = (
                flag.alias(f"_num_{col.field}")
                if flag is not None
                else pl.repeat(False, height, dtype=pl.Boolean, eager=True)
            )
    return pl.DataFrame(out)


# ---------------------------------------------------------------- CSV


def content_lines(scan: RawScan) -> int:
    """Physical lines holding something (trailing blank lines not counted)."""
    if scan.size == 0:
        return 0
    return scan.newlines + (0 if scan.ends_with_newline else 1) - scan.trailing_newlines


def _transcode_gb18030(path: Path, target: Path) -> None:
    """Strictly decode GB18030 to a UTF-8 file, chunk by chunk; undecodable names the line."""
    decoder = codecs.getincrementaldecoder("gb18030")("strict")
    line = 1
    with open(path, "rb") as src, open(target, "w", encoding="utf-8", newline="") as dst:
        while True:
            chunk = src.read(CHUNK)
            try:
                dst.write(decoder.decode(chunk, final=not chunk))
            except UnicodeDecodeError as err:
                bad_line = line + chunk[: max(err.start, 0)].count(b"\n")
                raise FileRejected(
                    UNDECODABLE, f"neither UTF-8 nor GB18030: invalid byte sequence on line {bad_line}"
                ) from None
            if not chunk:
                return
            line += chunk.count(b"\n")


def _read_header(path: Path) -> list[str]:
    with open(path, encoding="utf-8-sig", newline="") as handle:
        head = handle.read(FIELD_LIMIT)
    rows = csv.reader(head.splitlines(keepends=True)[:1] or [""])
    first = next(rows, [])
    return [h.strip() for h in first]


def _blank(path: Path, scan: RawScan) -> bool:
    if scan.size > FIELD_LIMIT:
        return False
    return not path.read_bytes().replace(b"\xef\xbb\xbf", b"").strip()


def open_csv(path: Path, scan: RawScan, contract: Contract, workdir: Path) -> Source:
    """Check the encoding and shape of a CSV file and map its header."""
    lines_est = max(content_lines(scan) - 1, 0)
    if content_lines(scan) == 0 or _blank(path, scan):
        raise FileRejected(EMPTY_FILE, "the file is empty", rows_in=0)
    if scan.has_nul:
        raise FileRejected(
            UNDECODABLE, "the file holds NUL bytes: not UTF-8 or GB18030 text (UTF-16 or binary?)", rows_in=lines_est
        )
    if scan.long_line:
        raise FileRejected(
            UNREADABLE, "a line is longer than 1 MiB: not a CSV extract (a line that never ends?)", rows_in=lines_est
        )
    encoding, text_path = "utf-8", path
    if not scan.utf8:
        encoding, text_path = "gb18030", workdir / "decoded.csv"
        try:
            _transcode_gb18030(path, text_path)
        except FileRejected as err:
            err.rows_in = lines_est
            raise
    if scan.quotes % 2:
        raise FileRejected(
            UNREADABLE, 'unbalanced quotes: the file holds an odd number of `"` characters', rows_in=lines_est
        )
    headers = _read_header(text_path)
    hmap = map_headers(headers, contract)
    if hmap.matched == 0:
        data_row = looks_like_data_row(headers)
        if encoding == "gb18030" and not data_row:
            raise FileRejected(
                UNDECODABLE,
                "not UTF-8; read as GB18030 no header of the contract is recognisable (another encoding, e.g. Big5?)",
                rows_in=lines_est,
            )
        raise no_header(contract, "on line 1", data_row, rows_in=content_lines(scan) if data_row else lines_est)

    def batches(slow: bool) -> Iterator[pl.DataFrame]:
        if slow:
            return _slow_batches(text_path, hmap, contract)
        fast = _fast_batches(text_path, hmap, contract, content_lines(scan))
        return prefetch(fast) if scan.size > BLOCK_SIZE else fast

    return Source(hmap, encoding, batches, estimated_rows=lines_est)


def no_header(contract: Contract, where: str, data_row: bool, rows_in: int) -> FileRejected:
    """A file whose header row holds no header of the contract (a headerless file: its first row is data)."""
    expected = ", ".join(c.header for c in contract.columns if c.required)
    why = "; it holds data: was the file exported without its header row?" if data_row else ""
    return FileRejected(
        MISSING_HEADER,
        f"no recognisable header: none of the headers of {contract.dataset} ({expected}) is {where}{why}",
        rows_in=rows_in,
    )


def _no_content(err: Exception) -> str:
    """pyarrow's message without the row text it may quote (IDs and names must not reach the ledger)."""
    first = str(err).splitlines()[0] if str(err) else type(err).__name__
    return re.sub(r"(got \d+).*$", r"\1", first)[:200]


def prefetch(batches: Iterator[pl.DataFrame]) -> Iterator[pl.DataFrame]:
    """Read the next batch in a background thread while the caller works on this one (one ahead)."""
    queue: Queue = Queue(maxsize=1)
    done = object()
    stop = threading.Event()

    def produce() -> None:
        try:
            for batch in batches:
                if stop.is_set():
                    return
                queue.put(batch)
            queue.put(done)
        except BaseException as err:  # handed to the consumer, raised there
            queue.put(err)

    worker = threading.Thread(target=produce, name="csv-prefetch", daemon=True)
    worker.start()
    try:
        while (item := queue.get()) is not done:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        while worker.is_alive():  # unblock a producer waiting on a full queue
            try:
                queue.get_nowait()
            except Empty:
                worker.join(0.05)


def _fast_batches(path: Path, hmap: HeaderMap, contract: Contract, expected_lines: int) -> Iterator[pl.DataFrame]:
    names = [f"c{i}" for i in range(len(hmap.headers))]
    # newlines are looked for in free-text and extra columns only: one elsewhere makes the value
    # invalid anyway, and the line count check at the end sends such a file to the exact reader
    typed = {hmap.positions[c.field] for c in contract.columns if c.kind != "text" and c.field in hmap.positions}
    free_text = [name for i, name in enumerate(names) if i not in typed]
    ragged: list[int] = []

    def on_invalid(row: pacsv.InvalidRow) -> str:
        ragged.append(row.actual_columns)
        return "skip"

    try:
        reader = pacsv.open_csv(
            path,
            read_options=pacsv.ReadOptions(column_names=names, skip_rows=1, block_size=BLOCK_SIZE),
            parse_options=pacsv.ParseOptions(newlines_in_values=True, invalid_row_handler=on_invalid),
            convert_options=pacsv.ConvertOptions(
                column_types={n: pa.string() for n in names},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except pa.ArrowInvalid as err:
        if "Empty CSV file" in str(err):
            return
        raise FileRejected(UNREADABLE, f"CSV cannot be parsed: {_no_content(err)}") from None
    seen = newlines_seen = 0
    while True:
        try:
            batch = reader.read_next_batch()
        except StopIteration:
            break
        except pa.ArrowInvalid as err:
            raise FileRejected(UNREADABLE, f"CSV cannot be parsed after data row {seen}: {_no_content(err)}") from None
        if ragged:
            raise SlowPathNeeded(f"{len(ragged)} ragged row(s)")
        frame = pl.from_arrow(batch)
        assert isinstance(frame, pl.DataFrame)
        if _has_empty_rows(frame):
            raise SlowPathNeeded("rows with no value in any field")
        columns = frame.get_columns()
        height = frame.height
        index = pl.int_range(0, height, eager=True, dtype=pl.Int64)
        nl = _newlines_per_row(frame, free_text)
        before = nl.cum_sum() - nl + newlines_seen
        lines = index + seen + 2 + before
        yield standard_frame(columns, hmap, contract, index + seen + 1, lines)
        seen += height
        newlines_seen += int(nl.sum())
    if ragged:
        raise SlowPathNeeded(f"{len(ragged)} ragged row(s)")
    if seen and 1 + seen + newlines_seen != expected_lines:
        raise SlowPathNeeded("blank lines inside the file")


def _has_empty_rows(frame: pl.DataFrame) -> bool:
    # cheap: only rows whose first field is empty are looked at across every field
    first = frame.get_column(frame.columns[0])
    candidates = frame.filter(first.str.strip_chars() == "")
    return not candidates.is_empty() and bool(
        candidates.select(pl.all_horizontal(pl.all().str.strip_chars() == "")).to_series().any()
    )


def _newlines_per_row(frame: pl.DataFrame, columns: list[str]) -> pl.Series:
    # a cheap literal search first: quoted newlines are rare, counting them is not cheap
    if not any(frame.get_column(c).str.contains("\n", literal=True).any() for c in columns):
        return pl.zeros(frame.height, dtype=pl.Int64, eager=True)
    counts = frame.select(
        pl.sum_horizontal(pl.col(c).str.count_matches("\n", literal=True) for c in frame.columns).alias("nl")
    )
    return counts.to_series().cast(pl.Int64)


def _slow_batches(path: Path, hmap: HeaderMap, contract: Contract) -> Iterator[pl.DataFrame]:
    """Python's csv module: exact physical line of every row; ragged rows marked, not dropped."""
    csv.field_size_limit(FIELD_LIMIT)
    width = len(hmap.headers)
    with open(path, encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        try:
            next(reader, None)
        except csv.Error as err:
            raise FileRejected(UNREADABLE, f"header line cannot be parsed: {err}") from None
        cols: list[list[str]] = [[] for _ in range(width)]
        rows: list[int] = []
        lines: list[int] = []
        problems: list[str | None] = []
        previous = reader.line_num
        data_row = 0
        while True:
            try:
                record = next(reader)
            except StopIteration:
                break
            except csv.Error as err:
                raise FileRejected(UNREADABLE, f"CSV cannot be parsed near line {reader.line_num}: {err}") from None
            start, previous = previous + 1, reader.line_num
            if not any(value.strip() for value in record):
                continue  # a blank line, or a row with no value in any field, is not a data row
            data_row += 1
            problem = None
            if len(record) != width:
                if any("\n" in value for value in record):
                    raise FileRejected(
                        UNREADABLE, f"a quoted field opened on line {start} is not closed where the row ends"
                    )
                problem = f"row has {len(record)} fields, the header has {width}"
                record = (record + [""] * width)[:width]
            for i, value in enumerate(record):
                cols[i].append(value)
            rows.append(data_row)
            lines.append(start)
            problems.append(problem)
            if len(rows) >= SLOW_BATCH:
                yield _slow_frame(cols, rows, lines, problems, hmap, contract)
                cols, rows, lines, problems = [[] for _ in range(width)], [], [], []
        if rows:
            yield _slow_frame(cols, rows, lines, problems, hmap, contract)


def _slow_frame(cols, rows, lines, problems, hmap: HeaderMap, contract: Contract) -> pl.DataFrame:
    series = [pl.Series(values, dtype=pl.String) for values in cols]
    return standard_frame(
        series, hmap, contract, pl.Series(rows), pl.Series(lines), pl.Series(problems, dtype=pl.String)
    )


# ---------------------------------------------------------------- XLSX


def open_xlsx(path: Path, contract: Contract) -> Source:
    """First worksheet; header = the first of the top 6 rows holding every required header."""
    import fastexcel

    try:
        reader = fastexcel.read_excel(path)
        sheet = reader.load_sheet(0, header_row=None, dtypes="string", skip_rows=0)
        table = sheet.to_polars()
    except Exception as err:  # calamine raises its own error types for every kind of bad workbook
        raise FileRejected(
            UNREADABLE, f"not a readable XLSX workbook: {str(err).splitlines()[0][:200]}", rows_in=0
        ) from None
    table = table.select(pl.all().cast(pl.String))
    nonblank = table.select(
        pl.any_horizontal(pl.col(c).str.strip_chars().str.len_chars() > 0 for c in table.columns).fill_null(False)
        if table.width
        else pl.lit(False)
    )
    if table.height == 0 or table.width == 0 or not nonblank.to_series().any():
        others = _other_sheets_with_data(reader)
        note = f"; sheet(s) {', '.join(others)} hold data but only the first sheet is read" if others else ""
        raise FileRejected(EMPTY_FILE, f"the first worksheet is empty{note}", rows_in=0)
    header_index, hmap = _find_header(table, contract)
    if hmap.matched == 0:
        data_row = looks_like_data_row(hmap.headers)
        rows_in = int(nonblank.to_series().sum()) - (0 if data_row else 1)
        raise no_header(contract, f"in the first {MAX_TITLE_ROWS + 1} rows of the sheet", data_row, rows_in=rows_in)
    rows = table.slice(header_index + 1)
    keep = nonblank.to_series().slice(header_index + 1)
    index = pl.int_range(header_index + 1, table.height, eager=True, dtype=pl.Int64)
    try:
        numbers = _number_cells(reader, hmap, contract, table.height, header_index)
    except Exception as err:  # calamine's own error types: the workbook cannot be read as numbers
        raise FileRejected(
            UNREADABLE, f"XLSX cells cannot be read: {str(err).splitlines()[0][:200]}", rows_in=0
        ) from None
    rows, index = rows.filter(keep), index.filter(keep)
    numbers = {k: v.filter(keep) for k, v in numbers.items()}
    frame = standard_frame(rows.get_columns(), hmap, contract, index - header_index, index + 1, numbers=numbers)

    def batches(slow: bool) -> Iterator[pl.DataFrame]:
        yield frame

    return Source(hmap, "xlsx", batches, estimated_rows=frame.height)


def _find_header(table: pl.DataFrame, contract: Contract) -> tuple[int, HeaderMap]:
    best: tuple[int, HeaderMap] | None = None
    for index in range(min(MAX_TITLE_ROWS + 1, table.height)):
        headers = ["" if v is None else str(v).strip() for v in table.row(index)]
        hmap = map_headers(headers, contract)
        if not hmap.missing:
            return index, hmap
        if best is None or hmap.matched > best[1].matched:
            best = (index, hmap)
    assert best is not None
    return best


def _number_cells(reader, hmap: HeaderMap, contract: Contract, height: int, header_index: int) -> dict[str, pl.Series]:
    """Per id field: was the cell a number (digits lost by the spreadsheet)?"""
    positions = {
        c.field: hmap.positions[c.field] for c in contract.columns if c.kind == "id" and c.field in hmap.positions
    }
    if not positions:
        return {}
    sheet = reader.load_sheet(
        0, header_row=None, skip_rows=0, dtypes="boolean", use_columns=sorted(set(positions.values()))
    )
    batch, _errors = sheet.to_arrow_with_errors()
    flags = pl.from_arrow(batch)
    assert isinstance(flags, pl.DataFrame)
    by_pos = dict(zip(sorted(set(positions.values())), flags.get_columns()))
    out = {}
    for field_name, pos in positions.items():
        col = by_pos[pos].is_not_null()
        out[field_name] = col.slice(header_index + 1, height - header_index - 1)
    return out


def _other_sheets_with_data(reader) -> list[str]:
    names = []
    for i, name in enumerate(reader.sheet_names[1:], start=1):
        try:
            if reader.load_sheet(i, header_row=None, dtypes="string").height:
                names.append(name)
        except Exception:  # a broken extra sheet only matters for the message
            continue
    return names


# ---------------------------------------------------------------- Parquet (a pull from an exchange database)

PARQUET_BATCH = 100_000


def open_parquet(path: Path, contract: Contract) -> Source:
    """Rows pulled from an exchange database (ingestion/exchange/): columns named by the contract's headers,
    in the database's own types. Each value becomes the text a file would hold (a date `2026-03-05`, a month
    `2026-03`, a decimal `1234.50`), so the same normalisation and row checks apply; `_source_line` is the row."""
    import pyarrow.parquet as pq

    try:
        handle = pq.ParquetFile(path)
    except Exception as err:  # pyarrow raises several error types for a damaged file
        raise FileRejected(UNREADABLE, f"not a readable Parquet file: {str(err).splitlines()[0][:200]}") from None
    schema = handle.schema_arrow
    hmap = map_headers(list(schema.names), contract)
    kind_at = {hmap.positions[c.field]: c.kind for c in contract.columns if c.field in hmap.positions}

    def batches(slow: bool) -> Iterator[pl.DataFrame]:
        seen = 0
        for batch in handle.iter_batches(batch_size=PARQUET_BATCH):
            columns = [_as_text(batch.column(i), kind_at.get(i)) for i in range(batch.num_columns)]
            rows = pl.int_range(seen + 1, seen + batch.num_rows + 1, eager=True, dtype=pl.Int64)
            seen += batch.num_rows
            yield standard_frame(columns, hmap, contract, rows, rows)

    return Source(hmap, "parquet", batches, estimated_rows=handle.metadata.num_rows)


def _as_text(array: pa.Array, kind: str | None) -> pl.Series:
    """A pulled column as the text a delivered file would hold (null → empty)."""
    import pyarrow.compute as pc

    arrow_type = array.type
    if pa.types.is_timestamp(arrow_type) and arrow_type.tz is not None:  # a moment: its date on China's calendar
        array = pc.local_timestamp(array.cast(pa.timestamp(arrow_type.unit, CHINA_TZ_NAME)))
        arrow_type = array.type
    if kind == "month" and (pa.types.is_date(arrow_type) or pa.types.is_timestamp(arrow_type)):
        text = pc.strftime(array, "%Y-%m")
    elif pa.types.is_timestamp(arrow_type):
        text = pc.strftime(array, "%Y-%m-%d %H:%M:%S")
    elif pa.types.is_date(arrow_type):
        text = pc.strftime(array, "%Y-%m-%d")
    else:
        text = array.cast(pa.string())
    series = pl.from_arrow(text)
    assert isinstance(series, pl.Series)
    return series.fill_null("")


def open_source(path: Path, ext: str, scan: RawScan, contract: Contract, workdir: Path) -> Source:
    if ext == "xlsx":
        return open_xlsx(path, contract)
    if ext == "parquet":
        return open_parquet(path, contract)
    return open_csv(path, scan, contract, workdir)
