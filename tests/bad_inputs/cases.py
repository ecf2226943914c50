"""The bad-input corpus: malformed deliveries, each with the outcome the landing must give.

Files are generated (small, deterministic) rather than committed, so every case states in one place
how its file is broken and what must come out. A case writes one or more files into an inbox; the
expected outcomes are listed in landing order. `rows` = (rows_in, rows_landed, rows_rejected, rows_skipped).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bad_inputs.factory import contract, csv_text, headers, person_id, valid_rows, write_csv, write_xlsx

MEMBER = contract("mz_member")
HEAD = headers(MEMBER)
N = 4  # data rows of a typical case file


@dataclass(frozen=True)
class Expect:
    file_name: str
    status: str
    reason: str | None = None  # reason code (first part of the ledger reason)
    rows: tuple[int, int, int, int] | None = None
    rejections: list[tuple[int | None, int | None, str, str]] | None = None  # data_row, line, column, reason
    message_has: tuple[str, ...] = ()
    stays_in_inbox: bool = False


@dataclass(frozen=True)
class Case:
    name: str
    build: Callable[[Path], None]
    expect: list[Expect] = field(default_factory=list)


def _member_rows(n: int = N, start: int = 0) -> list[list[str]]:
    return valid_rows(MEMBER, n, start)


def _write(inbox: Path, name: str, data: bytes, mtime: int | None = None) -> Path:
    path = inbox / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    if mtime is not None:
        os.utime(path, ns=(mtime, mtime))
    return path


def _member_csv(
    rows: list[list[str]] | None = None, head: list[str] | None = None, encoding: str = "utf-8", newline: str = "\n"
) -> bytes:
    return csv_text(head or HEAD, _member_rows() if rows is None else rows, newline).encode(encoding)


def _with(row_index: int, column: str, value: str, n: int = N) -> list[list[str]]:
    rows = _member_rows(n)
    rows[row_index][HEAD.index(column)] = value
    return rows


def _bad_ids() -> list[list[str]]:
    rows = _member_rows(5)
    wrong_check = person_id(4)[:17] + ("1" if person_id(4)[17] == "0" else "0")
    for row, value in zip(rows, ["3.70102E+17", "12345", "990102198001010018", "370102198013010013", wrong_check]):
        row[HEAD.index("身份证号")] = value
    return rows


def _multiline() -> list[list[str]]:
    rows = _member_rows()
    rows[0][HEAD.index("健康状况")] = "慢性\n病"  # quoted over two lines, and not a listed value
    rows[1][HEAD.index("与户主关系")] = "儿媳"
    rows[2][HEAD.index("身份证号")] = "37010219800101"
    return rows


F = "mz_member_20261031.csv"
FX = "mz_member_20261031.xlsx"
OK = (N, N, 0, 0)

CASES: list[Case] = [
    Case("empty file", lambda d: _write(d, F, b""), [Expect(F, "rejected", "empty_file", (0, 0, 0, 0))]),
    Case("blank lines only", lambda d: _write(d, F, b"\n \r\n\n"), [Expect(F, "rejected", "empty_file", (0, 0, 0, 0))]),
    Case("header only", lambda d: _write(d, F, _member_csv(rows=[])), [Expect(F, "landed", None, (0, 0, 0, 0))]),
    Case(
        "binary junk named .csv",
        lambda d: _write(d, F, bytes(range(256)) * 40),
        [Expect(F, "rejected", "undecodable", message_has=("NUL",))],
    ),
    Case(
        "UTF-16 with BOM",
        lambda d: _write(d, F, _member_csv(encoding="utf-16")),
        [Expect(F, "rejected", "undecodable", (N, 0, N, 0))],
    ),
    Case(
        "Big5 (traditional headers): read as GB18030 nothing matches",
        lambda d: _write(
            d,
            F,
            csv_text(
                ["家庭編號", "姓名", "身份證號", "與戶主關係", "勞動能力"],
                [["H1", "陳大文", person_id(1), "戶主", "有勞動能力"]] * N,
            ).encode("big5"),
        ),
        [Expect(F, "rejected", "undecodable", (N, 0, N, 0), message_has=("Big5",))],
    ),
    Case(
        "GBK with one broken byte sequence",
        lambda d: _write(d, F, _member_csv(encoding="gb18030").replace("张伟0".encode("gb18030"), b"\xd5\xff\xce\xb0")),
        [Expect(F, "rejected", "undecodable", (N, 0, N, 0), message_has=("line 2",))],
    ),
    Case(
        "GB18030 with a 4-byte character (gbk cannot)",
        lambda d: _write(d, F, _member_csv(rows=_with(0, "姓名", "张𠀀"), encoding="gb18030")),
        [Expect(F, "landed", None, OK)],
    ),
    Case(
        "UTF-8 with BOM and CRLF line endings",
        lambda d: _write(d, F, b"\xef\xbb\xbf" + _member_csv(newline="\r\n")),
        [Expect(F, "landed", None, OK)],
    ),
    Case(
        "unbalanced quotes",
        lambda d: _write(d, F, _member_csv().replace(person_id(1).encode(), b'"' + person_id(1).encode())),
        [Expect(F, "rejected", "unreadable", (N, 0, N, 0), message_has=("quote",))],
    ),
    Case(
        "ragged row with too many fields",
        lambda d: _write(d, F, _member_csv().replace(b"\n", b",extra\n", 3).replace(b",extra\n", b"\n", 2)),
        [Expect(F, "landed", None, (N, N - 1, 1, 0), rejections=[(2, 3, "", "unreadable")], message_has=())],
    ),
    Case(
        "ragged row with too few fields",
        lambda d: _write(d, F, _member_csv(rows=_member_rows()[:3]) + b"H9,only\n"),
        [Expect(F, "landed", None, (N, 3, 1, 0), rejections=[(4, 5, "", "unreadable")])],
    ),
    Case(
        "duplicate header names (a contract column twice)",
        lambda d: _write(d, F, _member_csv(head=HEAD + ["身份证号"], rows=[r + [r[2]] for r in _member_rows()])),
        [Expect(F, "rejected", "unreadable", (N, 0, N, 0), message_has=("身份证号",))],
    ),
    Case(
        "duplicate extra headers are only reported",
        lambda d: _write(
            d, F, _member_csv(head=HEAD + ["备注", "备注"], rows=[r + ["a", "b"] for r in _member_rows()])
        ),
        [Expect(F, "landed", None, OK)],
    ),
    Case(
        "missing required column",
        lambda d: _write(d, F, _member_csv(head=HEAD[:2] + HEAD[3:], rows=[r[:2] + r[3:] for r in _member_rows()])),
        [
            Expect(
                F,
                "rejected",
                "missing_required_column",
                (N, 0, N, 0),
                rejections=[(None, None, "身份证号", "missing_required_column")],
                message_has=("身份证号", F),
            )
        ],
    ),
    Case(
        "a required column with every value empty",
        lambda d: _write(d, F, _member_csv(rows=[r[:3] + [""] + r[4:] for r in _member_rows()])),
        [
            Expect(
                F,
                "landed",
                None,
                (N, 0, N, 0),
                rejections=[(i, i + 1, "与户主关系", "missing_required") for i in range(1, N + 1)],
            )
        ],
    ),
    Case(
        "an XLSX that is really a CSV",
        lambda d: _write(d, FX, _member_csv()),
        [Expect(FX, "rejected", "unreadable", (0, 0, 0, 0), message_has=("XLSX",))],
    ),
    Case(
        "a corrupt XLSX (truncated)",
        lambda d: (write_xlsx(d / FX, HEAD, _member_rows()), (d / FX).write_bytes((d / FX).read_bytes()[:700])),
        [Expect(FX, "rejected", "unreadable", (0, 0, 0, 0))],
    ),
    Case(
        "a workbook whose data is only on the second sheet",
        lambda d: write_xlsx(d / FX, HEAD, _member_rows(), sheet=1),
        [Expect(FX, "rejected", "empty_file", (0, 0, 0, 0), message_has=("Sheet2",))],
    ),
    Case(
        "XLSX with 3 title rows, an ID number cell and a date cell",
        lambda d: write_xlsx(
            d / FX,
            HEAD,
            [r if i != 1 else r[:2] + [int(person_id(1))] + r[3:] for i, r in enumerate(_member_rows())],
            title_rows=3,
        ),
        [Expect(FX, "landed", None, (N, N - 1, 1, 0), rejections=[(2, 6, "身份证号", "id_spreadsheet_mangled")])],
    ),
    Case(
        "XLSX whose header is below 5 title rows: no header where one may stand",
        lambda d: write_xlsx(d / FX, HEAD, _member_rows(), title_rows=6),
        [Expect(FX, "rejected", "missing_header", message_has=("first 6 rows",))],
    ),
    Case(
        "a name that matches no dataset",
        lambda d: _write(d, "members_october.csv", _member_csv()),
        [Expect("members_october.csv", "not_a_dataset", "not_a_dataset", (0, 0, 0, 0), stays_in_inbox=True)],
    ),
    Case(
        "a dataset file in another dataset's folder",
        lambda d: _write(d, "mz_household/" + F, _member_csv()),
        [Expect("mz_household/" + F, "not_a_dataset", "not_a_dataset", (0, 0, 0, 0), stays_in_inbox=True)],
    ),
    Case(
        "a cut-off date in the future",
        lambda d: _write(d, "mz_member_20991231.csv", _member_csv()),
        [Expect("mz_member_20991231.csv", "rejected", "bad_date", (N, 0, N, 0), message_has=("after today",))],
    ),
    Case(
        "an impossible cut-off date in the name",
        lambda d: _write(d, "mz_member_20261332.csv", _member_csv()),
        [Expect("mz_member_20261332.csv", "rejected", "bad_date", (N, 0, N, 0))],
    ),
    Case(
        "a line that never ends (3 MB, no newline)",
        lambda d: _write(d, F, _member_csv(rows=[]) + b"H1," + b"x" * (3 << 20)),
        [Expect(F, "rejected", "unreadable", message_has=("1 MiB",))],
    ),
    Case(
        "invalid month 13",
        lambda d: write_csv(
            d / "mz_payment_20261031.csv",
            headers(contract("mz_payment")),
            [r[:1] + ["202613"] + r[2:] if i == 0 else r for i, r in enumerate(valid_rows(contract("mz_payment"), N))],
        ),
        [
            Expect(
                "mz_payment_20261031.csv",
                "landed",
                None,
                (N, N - 1, 1, 0),
                rejections=[(1, 2, "发放年月", "bad_month")],
            )
        ],
    ),
    Case(
        "bad IDs: each reason distinct",
        lambda d: _write(d, F, _member_csv(rows=_bad_ids())),
        [
            Expect(
                F,
                "landed",
                None,
                (5, 0, 5, 0),
                rejections=[
                    (1, 2, "身份证号", "id_spreadsheet_mangled"),
                    (2, 3, "身份证号", "bad_id_format"),
                    (3, 4, "身份证号", "invalid_province"),
                    (4, 5, "身份证号", "invalid_birth_date"),
                    (5, 6, "身份证号", "bad_check_digit"),
                ],
            )
        ],
    ),
    Case(
        "unknown enum values are not guessed",
        lambda d: _write(d, F, _member_csv(rows=_with(1, "与户主关系", "儿媳"))),
        [Expect(F, "landed", None, (N, N - 1, 1, 0), rejections=[(2, 3, "与户主关系", "unknown_enum")])],
    ),
    Case(
        "two bad cells in one row count once",
        lambda d: _write(
            d,
            F,
            _member_csv(rows=[r if i != 2 else r[:3] + ["儿媳", "很好"] + r[5:] for i, r in enumerate(_member_rows())]),
        ),
        [
            Expect(
                F,
                "landed",
                None,
                (N, N - 1, 1, 0),
                rejections=[(3, 4, "与户主关系", "unknown_enum"), (3, 4, "劳动能力", "unknown_enum")],
            )
        ],
    ),
    Case(
        "multi-line quoted field, then bad rows: physical line numbers",
        lambda d: _write(d, F, _member_csv(rows=_multiline())),
        [
            Expect(
                F,
                "landed",
                None,
                (N, 1, 3, 0),
                rejections=[
                    (1, 2, "健康状况", "unknown_enum"),
                    (2, 4, "与户主关系", "unknown_enum"),
                    (3, 5, "身份证号", "bad_id_format"),
                ],
            )
        ],
    ),
    Case(
        "blank lines inside the file",
        lambda d: _write(d, F, _member_csv(rows=_with(2, "与户主关系", "急诊")).replace(b"\n", b"\n\n", 2)),
        [Expect(F, "landed", None, (N, N - 1, 1, 0), rejections=[(3, 6, "与户主关系", "unknown_enum")])],
    ),
    Case(
        "rows with no value in any field (a spreadsheet's leftovers) are not data rows",
        lambda d: _write(
            d,
            F,
            _member_csv(rows=[*_member_rows()[:2], [""] * len(HEAD), *_member_rows(2, 2), [" "] * len(HEAD)])
            + (",," * len(HEAD) + "\n").encode(),
        ),
        [Expect(F, "landed", None, OK)],
    ),
    Case(
        "a re-delivery rejected whole replaces nothing",
        lambda d: (
            _write(d, F, _member_csv(), mtime=1_000),
            _write(
                d,
                "mz_member_20261031_2.csv",
                _member_csv(head=HEAD[1:], rows=[r[1:] for r in _member_rows()]),
                mtime=2_000,
            ),
        ),
        [
            Expect(F, "landed", None, OK),
            Expect("mz_member_20261031_2.csv", "rejected", "missing_required_column", (N, 0, N, 0)),
        ],
    ),
    Case(
        "a conflicting bare/_1 pair: the second to arrive is rejected",
        lambda d: (
            _write(d, "mz_member_20261031_1.csv", _member_csv(), mtime=1_000),
            _write(d, F, _member_csv(rows=_member_rows(3)), mtime=2_000),
        ),
        [
            Expect("mz_member_20261031_1.csv", "landed", None, OK),
            Expect(F, "rejected", "conflicting_delivery", (3, 0, 3, 0)),
        ],
    ),
    Case(
        "the same content delivered twice",
        lambda d: (
            _write(d, F, _member_csv(), mtime=1_000),
            _write(d, "mz_member/mz_member_20261031_2.csv", _member_csv(), mtime=2_000),
        ),
        [
            Expect(F, "landed", None, OK),
            Expect("mz_member/mz_member_20261031_2.csv", "duplicate", "duplicate", (0, 0, 0, 0)),
        ],
    ),
    Case(
        "full-width header, (元) unit and full-width values",
        lambda d: write_csv(
            d / "mz_household_20261031.csv",
            [
                h.replace("家庭年收入", "家庭年收入（元）").replace("家庭人口数", "家庭人口数　")
                for h in headers(contract("mz_household"))
            ],
            [r[:9] + ["３"] + ["￥１，２３４．５"] + r[11:] for r in valid_rows(contract("mz_household"), N)],
        ),
        [Expect("mz_household_20261031.csv", "landed", None, OK)],
    ),
    Case(
        "row rules: negative income, 家庭人口数 0",
        lambda d: write_csv(
            d / "mz_household_20261031.csv",
            headers(contract("mz_household")),
            [
                r[:9] + ["0", "-5"] + r[11:] if i == 0 else r
                for i, r in enumerate(valid_rows(contract("mz_household"), N))
            ],
        ),
        [
            Expect(
                "mz_household_20261031.csv",
                "landed",
                None,
                (N, N - 1, 1, 0),
                rejections=[(1, 2, "家庭人口数", "member_count_below_1"), (1, 2, "家庭年收入", "negative_amount")],
            )
        ],
    ),
    Case(
        "death after the cut-off date",
        lambda d: write_csv(
            d / "wjw_death_20261031.csv",
            headers(contract("wjw_death")),
            [
                r[:3] + ["2026-11-02"] + r[4:] if i == 1 else r
                for i, r in enumerate(valid_rows(contract("wjw_death"), N))
            ],
        ),
        [
            Expect(
                "wjw_death_20261031.csv",
                "landed",
                None,
                (N, N - 1, 1, 0),
                rejections=[(2, 3, "死亡日期", "death_after_cutoff")],
            )
        ],
    ),
    Case(
        "disability certificate that does not hold the ID",
        lambda d: write_csv(
            d / "cl_disability_20261031.csv",
            headers(contract("cl_disability")),
            [
                [person_id(9) + "11"] + r[1:] if i == 0 else r
                for i, r in enumerate(valid_rows(contract("cl_disability"), N))
            ],
        ),
        [
            Expect(
                "cl_disability_20261031.csv",
                "landed",
                None,
                (N, N - 1, 1, 0),
                rejections=[(1, 2, "身份证号", "id_certificate_mismatch")],
            )
        ],
    ),
    Case(
        "冲销 without 原结算编号; a negative on a normal row",
        lambda d: write_csv(
            d / "ybj_settlement_20261031.csv",
            headers(contract("ybj_settlement")),
            [
                r[:7] + ["-100", "-60", "", "", "-40", "冲销", ""]
                if i == 0
                else r[:7] + ["-100", "-60", "", "", "-40", "冲正", "JS1"]
                if i == 1
                else r[:11] + ["-1", "正常", ""]
                if i == 2
                else r
                for i, r in enumerate(valid_rows(contract("ybj_settlement"), N))
            ],
        ),
        [
            Expect(
                "ybj_settlement_20261031.csv",
                "landed",
                None,
                (N, 2, 2, 0),
                rejections=[(1, 2, "原结算编号", "missing_required"), (3, 4, "个人负担", "negative_amount")],
            )
        ],
    ),
    Case(
        "feedback rows with an empty 核查结果 are skipped first",
        lambda d: write_csv(
            d / "feedback_20261031.csv",
            headers(contract("feedback")),
            [
                r[:1] + ["  "] + r[2:3] + ["bad date"] + r[4:]
                if i == 0
                else r[:2] + ["其他处置"] + r[3:]
                if i == 1
                else r
                for i, r in enumerate(valid_rows(contract("feedback"), N))
            ],
        ),
        [
            Expect(
                "feedback_20261031.csv", "landed", None, (N, 2, 1, 1), rejections=[(2, 3, "处置措施", "unknown_enum")]
            )
        ],
    ),
]


def expected_total() -> int:
    return sum(len(c.expect) for c in CASES)


TODAY = dt.date.today()
