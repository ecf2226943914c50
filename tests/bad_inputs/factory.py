"""Build valid and broken deliveries for any contract (test helper, no data of its own)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from ingestion.contracts import Column, Contract, load_contract
from ingestion.idcard import make_id
from ingestion.settings import DataRoot

NAMES = ["张伟", "王芳", "李娜", "刘洋", "陈静", "杨磊", "赵敏", "黄勇"]


def person_id(i: int) -> str:
    """A valid ID, distinct for every i (birth dates cycle within 1940-2005)."""
    return make_id("370102", dt.date(1940, 1, 1) + dt.timedelta(days=(37 * i) % 24000), i % 1000)


def valid_value(col: Column, i: int) -> str:
    """A valid cell of the column's kind for row i (IDs unique per row)."""
    if col.kind == "id":
        return person_id(i)
    if col.pii == "name":
        return NAMES[i % len(NAMES)] + str(i)
    if col.pii == "keyed":
        return person_id(i) + "11"
    if col.kind == "date":
        return (dt.date(2026, 1, 1) + dt.timedelta(days=i % 200)).isoformat()
    if col.kind == "month":
        return f"2026{(i % 9) + 1:02d}"
    if col.kind == "amount":
        return f"{100 + i}.50"
    if col.kind == "int":
        return str(1 + i % 5)
    if col.kind == "region":
        return "370102001001"
    if col.kind == "region6":
        return "370102"
    if col.kind == "enum":
        return next(iter(col.values))
    if col.length is not None:  # a code of fixed length (VIN 17, 不动产单元号 28, 统一社会信用代码 18), unique per row
        return f"{col.field[0].upper()}{i:0{col.length - 1}d}"
    return f"{col.field.upper()}{i:06d}"


def valid_rows(contract: Contract, n: int, start: int = 0) -> list[list[str]]:
    rows = [[valid_value(c, i) for c in contract.columns] for i in range(start, start + n)]
    for row in rows:  # row rules between columns
        for j, col in enumerate(contract.columns):
            if "matches_certificate_id" in col.checks:
                k = next(k for k, c in enumerate(contract.columns) if c.pii == "keyed")
                row[k] = row[j] + "11"
    return rows


def headers(contract: Contract) -> list[str]:
    return [c.header for c in contract.columns]


def csv_text(head: list[str], rows: list[list[str]], newline: str = "\n") -> str:
    def cell(value: str) -> str:
        return f'"{value.replace(chr(34), chr(34) * 2)}"' if any(ch in value for ch in ',"\n') else value

    return "".join(",".join(cell(v) for v in row) + newline for row in [head, *rows])


def write_csv(path: Path, head: list[str], rows: list[list[str]], encoding: str = "utf-8", newline: str = "\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(csv_text(head, rows, newline).encode(encoding))
    return path


def write_xlsx(path: Path, head: list[str], rows: list[list], title_rows: int = 0, sheet: int = 0) -> Path:
    """Rows may hold numbers (number cells) and dates (date cells); `sheet` 1 leaves the first sheet empty."""
    import xlsxwriter

    path.parent.mkdir(parents=True, exist_ok=True)
    book = xlsxwriter.Workbook(str(path))
    first = book.add_worksheet("Sheet1")
    target = book.add_worksheet("Sheet2") if sheet else first
    date_format = book.add_format({"num_format": "yyyy-mm-dd"})
    for r in range(title_rows):
        target.write_string(r, 0, "2026年10月 数据明细" if r == 0 else "")
    target.write_row(title_rows, 0, head)
    for i, row in enumerate(rows, start=title_rows + 1):
        for j, value in enumerate(row):
            if isinstance(value, dt.date):
                target.write_datetime(i, j, dt.datetime.combine(value, dt.time()), date_format)
            elif isinstance(value, (int, float)):
                target.write_number(i, j, value)
            else:
                target.write_string(i, j, value)
    book.close()
    return path


def make_root(base: Path) -> DataRoot:
    root = DataRoot(base / "data")
    root.inbox.mkdir(parents=True, exist_ok=True)
    return root


def contract(dataset: str) -> Contract:
    return load_contract(dataset)
