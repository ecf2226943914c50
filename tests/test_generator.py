"""The synthetic province: planted truth, messy but valid deliveries, determinism, independent check."""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import hashlib
import io
from collections import Counter
from pathlib import Path

import pytest
from generator_support import manifest, read_delivery, styles, truth_rows

from ingestion import idcard
from ingestion.contracts import all_contracts
from ingestion.settings import DataRoot
from synthetic import GenerationError, generate_province
from synthetic.quirks import ALL_QUIRKS

RUN = dt.date(2026, 10, 31)
ARGS = {"households": 300, "months": 12, "seed": 11, "run_date": RUN, "quirks": True}
KEY = "5a" * 32  # the same pseudonymisation secret for every generation, so truth files compare byte for byte
ID_REASONS = {"bad_id_format", "invalid_province", "invalid_birth_date", "bad_check_digit", "id_spreadsheet_mangled"}


@pytest.fixture(scope="module")
def province(tmp_path_factory: pytest.TempPathFactory) -> Path:
    mp = pytest.MonkeyPatch()
    mp.setenv("SAFETYNET_PSEUDONYM_KEY", KEY)
    root = tmp_path_factory.mktemp("province")
    generate_province(DataRoot.from_env(root), check_truth=True, **ARGS)  # raises if the checker disagrees
    yield root
    mp.undo()


def _digest(root: Path) -> dict[str, str]:
    files = sorted(p for p in (root / "inbox").rglob("*") if p.is_file()) + sorted((root / "truth").glob("*"))
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}


# --- truth coverage --------------------------------------------------------------------------------------------
def test_every_rule_level_and_sub_case_is_planted_in_several_households(province: Path) -> None:
    rows = truth_rows(province, "expected_warnings.csv")
    seen = Counter((r["rule_code"], r["sub_case"], r["level"]) for r in rows)
    required = {
        ("W01", "", "橙"), ("W01", "", "红"), ("W02", "", "红"), ("W03", "a", "黄"), ("W03", "a", "橙"),
        ("W03", "b", "黄"), ("W03", "b", "橙"), ("W04", "", "红"), ("W04", "", "橙"), ("W04", "", "黄"),
        ("W05", "", "黄"), ("W06", "", "红"), ("W07", "a", "橙"), ("W07", "b", "橙"), ("W07", "c", "橙"),
        ("W08", "a", "黄"), ("W08", "b", "黄"), ("W08", "c", "黄"), ("D01", "", "黄"), ("D02", "", "黄"),
        ("W09", "", "黄"), ("W09", "", "橙"), ("W10", "", "黄"), ("W10", "", "橙"), ("W11", "a", "橙"),
        ("W11", "b", "黄"),
    }  # fmt: skip
    assert required <= set(seen), required - set(seen)
    for rule in {r["rule_code"] for r in rows}:
        subjects = {(r["household_id"], r["person_key"]) for r in rows if r["rule_code"] == rule}
        assert len(subjects) >= 2, f"{rule} is planted in one household only"
    scenarios = " ".join(r["scenario"] for r in rows)
    for needle in ("倒塌", "严重损坏", "W05 特困", "W05 低保", "D02 boundary", "cremation record", "防返贫"):
        assert needle in scenarios, needle
    for needle in ("W09 boundary", "W10 boundary", "W11(b) boundary", "transferred away and back", "two businesses"):
        assert needle in scenarios, needle
    # every level of the 核对 rules in at least two counties
    for key in (("W09", "黄"), ("W09", "橙"), ("W10", "黄"), ("W10", "橙"), ("W11", "橙"), ("W11", "黄")):
        counties = {r["household_id"][:6] for r in rows if (r["rule_code"], r["level"]) == key}
        assert len(counties) >= 2, key


def test_warning_truth_follows_output_conventions(province: Path) -> None:
    for r in truth_rows(province, "expected_warnings.csv"):
        rule, episode = r["rule_code"], r["episode"]
        assert r["sub_case"] in ("", "a", "b", "c")
        if rule in ("W01", "W05"):
            assert r["person_key"] == "" and episode == rule
        else:
            assert len(r["person_key"]) == 24
        if rule in ("D01", "D02"):
            assert r["household_id"] == ""
        if rule in ("W09", "W10"):
            assert episode == rule and r["sub_case"] == ""
        prefix = {"W02": "death:", "W04": "disaster:", "D02": "disaster:", "W06": "month:", "W11": "business:"}.get(
            rule
        )
        if prefix:
            assert episode.startswith(prefix)
        if rule == "W02":
            assert episode == f"death:{r['person_key']}"


def test_every_identification_outcome_is_planted(province: Path) -> None:
    rows = truth_rows(province, "expected_identification.csv")
    results = {(r["review_kind"], r["result_category"]) for r in rows}
    for result in ("特困人员", "最低生活保障", "低保边缘家庭", "刚性支出困难家庭", "无"):
        assert ("申请", result) in results
    for result in ("低保边缘家庭", "刚性支出困难家庭", "无"):
        assert ("退出转入申请", result) in results
        assert ("退出复核", result) in results
    assert any(r["individual_cover_keys"] for r in rows)
    assert any("|" in r["individual_cover_keys"] for r in rows)
    temp = [r for r in rows if float(r["temp_assistance_amount"]) > 0]
    assert {"W02", "W04", "medical"} <= {w for r in temp for w in ("W02", "W04", "medical") if w in r["scenario"]}
    assert any("防止返贫监测对象 requested" in r["scenario"] and r["result_category"] == "无" for r in rows)
    hidden = [r for r in rows if r["scenario"].startswith("认定 核对: declares")]  # a car or a flat not declared
    assert len({r["result_category"] for r in hidden}) >= 2 and len(hidden) >= 4
    assert any(r["review_kind"] == "退出复核" and "核对" in r["scenario"] for r in rows)
    for r in rows:
        if r["review_kind"] == "退出复核":
            assert r["application_id"] == "" and r["household_id"] and r["from_cutoff"] < r["to_cutoff"]
        else:
            assert r["application_id"] and r["from_cutoff"] == ""


# --- deliveries ----------------------------------------------------------------------------------------------------
def test_every_dataset_but_feedback_is_delivered_at_its_cadence(province: Path) -> None:
    landings = truth_rows(province, "expected_landings.csv")
    by_dataset = Counter(r["dataset"] for r in landings if r["status"] != "not_a_dataset")
    specs = all_contracts()
    assert set(by_dataset) == set(specs) - {"feedback"}
    assert by_dataset["mz_household"] == 13  # 12 month ends + the `_2` re-delivery
    assert by_dataset["wjw_death"] == 53  # every 7 days back from the run date over 12 months
    assert by_dataset["zjt_housing_aid"] == 4 and by_dataset["jyt_student_aid"] == 2
    assert by_dataset["gaj_vehicle"] == by_dataset["zrzy_property"] == by_dataset["scjg_business"] == 12
    assert all(r["cutoff_date"] <= RUN.isoformat() for r in landings)
    statuses = Counter(r["status"] for r in landings)
    assert statuses["superseded"] >= 1 and statuses["not_a_dataset"] == 1


def test_files_hold_the_rows_the_truth_says(province: Path) -> None:
    style = styles(province)
    rejected = Counter(r["file_name"] for r in truth_rows(province, "expected_rejections.csv"))
    for r in truth_rows(province, "expected_landings.csv"):
        if r["status"] == "not_a_dataset":
            assert (province / "inbox" / r["file_name"]).exists()
            continue
        table = read_delivery(province, r["file_name"], style[r["file_name"]])
        assert len(table.rows) == int(r["rows_in"]) > 0, r["file_name"]
        assert int(r["rows_rejected"]) == rejected[r["file_name"]]
        assert int(r["rows_landed"]) + int(r["rows_rejected"]) == int(r["rows_in"])


def test_only_planted_bad_rows_have_bad_ids(province: Path) -> None:
    style = styles(province)
    expected = {
        (r["file_name"], int(r["data_row"]), r["column"]): r["reason"]
        for r in truth_rows(province, "expected_rejections.csv")
        if r["reason"] in ID_REASONS
    }
    found: dict[tuple[str, int, str], str] = {}
    checked = 0
    for name in style:
        table = read_delivery(province, name, style[name])
        kinds = {c.field: c.kind for c in all_contracts()[table.dataset].columns}
        id_cols = [i for i, f in enumerate(table.fields) if kinds[f] == "id"]
        for n, row in enumerate(table.rows, start=1):
            for i in id_cols:
                checked += 1
                try:
                    idcard.normalise_id(row[i])
                except idcard.IdError as e:
                    found[(name, n, table.headers[i])] = e.reason
    assert checked > 10_000
    assert found == expected
    assert set(expected.values()) == ID_REASONS


def test_rejections_name_the_header_as_written_and_cover_the_reasons(province: Path) -> None:
    style = styles(province)
    rows = truth_rows(province, "expected_rejections.csv")
    reasons = {r["reason"] for r in rows}
    assert {"bad_date", "unknown_enum", "missing_required", "negative_amount", "member_count_below_1",
            "death_after_cutoff", "id_certificate_mismatch", "id_spreadsheet_mangled",
            "bad_check_digit", "bad_length", "date_after_cutoff", "not_positive"} <= reasons  # fmt: skip
    for r in rows:
        table = read_delivery(province, r["file_name"], style[r["file_name"]])
        assert r["column"] in table.headers
        cell = table.rows[int(r["data_row"]) - 1][table.headers.index(r["column"])]
        if r["reason"] == "unknown_enum":
            assert cell in ("儿媳", "急诊", "五级", "拖拉机", "歇业")
        if r["reason"] == "missing_required":
            assert cell in ("", None)
        if r["reason"] == "bad_date":
            assert str(cell).endswith("-02-30")


def test_encodings_and_formats(province: Path) -> None:
    style = styles(province)
    inbox = province / "inbox"
    csvs = {n: s for n, s in style.items() if s["fmt"] == "csv"}
    encodings = Counter(s["encoding"] for s in csvs.values())
    assert {"gb18030", "utf-8-sig", "utf-8"} <= set(encodings)
    for name, s in csvs.items():
        raw = (inbox / name).read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf") == (s["encoding"] == "utf-8-sig"), name
        raw.decode(s["encoding"])
        if s["encoding"] == "gb18030":
            with pytest.raises(UnicodeDecodeError):
                raw.decode("utf-8")  # really GB18030 bytes, not UTF-8 in disguise
        assert (b"\r\n" in raw) == (s["newline"] == "\r\n"), name
    xlsx = [n for n, s in style.items() if s["fmt"] == "xlsx"]
    assert xlsx
    for name in xlsx:
        table = read_delivery(province, name, style[name])
        assert table.rows and style[name]["title_rows"][0] == "title"
    assert {s["date_style"] for s in style.values()} >= {
        "%Y-%m-%d",
        "%Y/%-m/%-d",
        "%Y/%m/%d",
        "%Y%m%d",
        "%Y年%-m月%-d日",
        "%Y.%m.%d",
        "excel",
    }
    assert any(s["unit_suffix"] == "（元）" for s in style.values()) and any(
        s["unit_suffix"] == "(元)" for s in style.values()
    )
    # 注册资本 in 万元 and 建筑面积 in 平方米 under their unit headers, in some files and not in others
    for dataset, header in (("scjg_business", "注册资本（万元）"), ("zrzy_property", "建筑面积（平方米）")):
        files = [n for n in style if n.split("/")[-1].startswith(dataset)]
        with_unit = [n for n in files if header in read_delivery(province, n, style[n]).headers]
        assert 0 < len(with_unit) < len(files), dataset


def test_messy_cells_within_the_spec(province: Path) -> None:
    style = styles(province)
    forms: Counter[str] = Counter()
    for name in style:
        table = read_delivery(province, name, style[name])
        for header in table.headers:
            if any("０" <= ch <= "９" or ch in "（）" for ch in header):
                forms["fullwidth header"] += 1
        for row in table.rows:
            for field, cell in zip(table.fields, row):
                if not isinstance(cell, str):
                    continue
                if field in ("id_number", "head_id", "applicant_id"):
                    forms["15-digit id"] += len(cell.strip()) == 15
                    forms["lower x"] += cell.strip().endswith("x")
                    forms["fullwidth id"] += any("０" <= ch <= "９" for ch in cell)
                    forms["spaces"] += cell != cell.strip()
                forms["synonym"] += cell in ("城镇", "低保", "本人", "特困", "1级", "2级", "退费", "冲正", "低保边缘")
                forms["register synonym"] += cell in (
                    "小型轿车",
                    "普通二轮摩托车",
                    "三轮汽车",
                    "普通住宅",
                    "在业",
                    "开业",
                )
                forms["lower-case vin"] += field == "vin" and cell.strip() != cell.strip().upper()
                forms["yen"] += cell.startswith("￥")
                forms["comma"] += "," in cell and cell.replace(",", "").replace(".", "").isdigit()
    for form in ("15-digit id", "lower x", "fullwidth id", "spaces", "synonym", "yen", "comma", "fullwidth header",
                 "register synonym", "lower-case vin"):  # fmt: skip
        assert forms[form] > 0, form
    names = list(style)
    assert any("/" in n for n in names) and any("/" not in n for n in names)
    assert any(n.endswith("_2.csv") or n.endswith("_2.xlsx") for n in names)


def test_no_rejected_row_belongs_to_a_planted_scenario(province: Path) -> None:
    style = styles(province)
    planted = {r["person_key"] for r in truth_rows(province, "expected_warnings.csv") if r["person_key"]}
    from ingestion.pseudonymise import person_key

    key = bytes.fromhex(KEY)
    for r in truth_rows(province, "expected_rejections.csv"):
        table = read_delivery(province, r["file_name"], style[r["file_name"]])
        row = table.rows[int(r["data_row"]) - 1]
        for field, cell in zip(table.fields, row):
            if field in ("id_number", "head_id", "applicant_id") and isinstance(cell, str):
                with contextlib.suppress(idcard.IdError):
                    assert person_key(idcard.normalise_id(cell), key) not in planted


# --- real-world quirks ---------------------------------------------------------------------------------------------
def test_every_quirk_is_planted(province: Path) -> None:
    planted = manifest(province)
    assert set(planted["quirks"]) == ALL_QUIRKS and len(ALL_QUIRKS) >= 15
    scenarios = " ".join(planted["scenarios"])
    assert [q for q in sorted(ALL_QUIRKS - {"reference_files"}) if f"quirk {q}:" not in scenarios] == []
    assert "quirk standard_change: not planted" not in scenarios


def test_quirks_shape_the_deliveries(province: Path) -> None:
    landings = truth_rows(province, "expected_landings.csv")

    def cutoffs(dataset: str, status: str = "landed") -> list[str]:
        return sorted(r["cutoff_date"] for r in landings if r["dataset"] == dataset and r["status"] == status)

    assert len(cutoffs("cl_disability")) == 11 and RUN.isoformat() not in cutoffs("cl_disability")  # a month late
    settlements = cutoffs("ybj_settlement")
    assert len(settlements) == 11 and settlements[-1] == RUN.isoformat()  # one month came with the next
    old = [r for r in landings if r["dataset"] == "ybj_settlement" and r["seq"] == "2"]
    assert len(old) == 1 and old[0]["cutoff_date"] < settlements[-3] and old[0]["status"] == "landed"
    assert old[0]["cutoff_date"] in cutoffs("ybj_settlement", "superseded")


def test_legacy_ids_fill_whole_files(province: Path) -> None:
    style = styles(province)
    whole = 0
    for name in style:
        table = read_delivery(province, name, style[name])
        if "id_number" not in table.fields:
            continue
        cells = [str(row[table.fields.index("id_number")]).strip() for row in table.rows]
        legacy = sum(len(c) == 15 for c in cells)
        modern_19xx = sum(len(c) == 18 and c[6:8] == "19" for c in cells)  # anyone born 1900-1999 in 18 digits
        whole += legacy > 0 and modern_19xx <= len(cells) // 50  # (a planted bad row may keep its 18 digits)
    assert whole >= 2  # a month of settlements and a member roster, as a legacy system exports them


def test_some_files_end_with_empty_rows(province: Path) -> None:
    style = styles(province)
    ends = Counter()
    for name, s in style.items():
        path = province / "inbox" / name
        if s["fmt"] == "csv":
            last = path.read_bytes().rstrip(b"\r\n").rsplit(b"\n", 1)[-1]
            ends["csv"] += last.strip(b"\r") != b"" and set(last.strip(b"\r")) == {ord(",")}
        else:
            import openpyxl

            book = openpyxl.load_workbook(path, read_only=True)
            rows = list(book.worksheets[0].iter_rows(values_only=True))
            book.close()
            ends["xlsx"] += all(v is None or str(v).strip() == "" for v in rows[-1])
    assert ends["csv"] > 10 and ends["xlsx"] > 0


def test_reference_files_as_users_have_them(province: Path) -> None:
    regions, villages = province / "reference" / "regions.csv", province / "reference" / "villages.csv"
    assert regions.read_bytes().startswith(b"\xef\xbb\xbf") and villages.read_bytes().startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(regions.read_text(encoding="utf-8-sig"))))
    assert {r["township_kind"] for r in rows} == {"街道", "镇", "乡", "乡镇"} and all(r["township_name"] for r in rows)
    assert "统计用区划代码" in rows[0]  # an extra column the loader ignores
    named = {r["village_code"] for r in csv.DictReader(io.StringIO(villages.read_text(encoding="utf-8-sig")))}
    households = truth_rows(province, "expected_landings.csv")
    style = styles(province)
    latest = max(r["file_name"] for r in households if r["dataset"] == "mz_household" and r["status"] == "landed")
    table = read_delivery(province, latest, style[latest])
    codes = {str(row[table.fields.index("region_code")]).strip() for row in table.rows}
    assert codes and {c.translate(str.maketrans("０１２３４５６７８９", "0123456789")) for c in codes} <= named


def test_quirk_names_are_checked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SAFETYNET_PSEUDONYM_KEY", KEY)
    root = DataRoot.from_env(tmp_path)
    with pytest.raises(GenerationError, match="unknown quirk.*no_such_quirk"):
        generate_province(root, **{**ARGS, "quirks": ["no_such_quirk"]})
    root.reference.mkdir(parents=True)
    (root.reference / "regions.csv").write_text("a user's own file\n", encoding="utf-8")
    with pytest.raises(GenerationError, match="your own regions.csv"):
        generate_province(root, **{**ARGS, "quirks": ["reference_files"]})
    assert (root.reference / "regions.csv").read_text(encoding="utf-8") == "a user's own file\n"


# --- behaviour -------------------------------------------------------------------------------------------------------
def test_deterministic_for_a_seed(province: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SAFETYNET_PSEUDONYM_KEY", KEY)
    again = tmp_path / "again"
    generate_province(DataRoot.from_env(again), check_truth=False, **ARGS)
    assert _digest(again) == _digest(province)


def test_refuses_a_non_empty_inbox_unless_overwrite(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SAFETYNET_PSEUDONYM_KEY", KEY)
    root = DataRoot.from_env(tmp_path)
    (root.inbox).mkdir(parents=True)
    (root.inbox / "mz_member_20261031.csv").write_text("x\n", encoding="utf-8")
    (root.root / "keep.txt").write_text("not touched\n", encoding="utf-8")
    with pytest.raises(GenerationError, match="not empty"):
        generate_province(root, **{**ARGS, "seed": 12}, check_truth=False)
    with pytest.raises(GenerationError, match="month end"):
        generate_province(root, **{**ARGS, "run_date": dt.date(2026, 10, 15)}, overwrite=True)
    summary = generate_province(root, **{**ARGS, "seed": 12}, overwrite=True, check_truth=False)
    assert (root.root / "keep.txt").exists()
    assert summary.files == len(truth_rows(tmp_path, "expected_landings.csv"))
    assert summary.planted_scenarios > 100 and summary.households == 300


def test_the_checker_rejects_a_truth_that_does_not_hold(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Plant an expectation the data cannot produce: the independent check must stop the generation."""
    import synthetic.generate as generate

    real = generate.plant_all

    def with_a_false_claim(p, counties, rng):  # type: ignore[no-untyped-def]
        real(p, counties, rng)
        p.begin("a claim nothing in the data supports")
        p.expect("W05", "黄", p.households[0].hid, "W05")

    monkeypatch.setenv("SAFETYNET_PSEUDONYM_KEY", KEY)
    monkeypatch.setattr(generate, "plant_all", with_a_false_claim)
    with pytest.raises(GenerationError, match="planted but not raised"):
        generate_province(DataRoot.from_env(tmp_path), check_truth=True, **ARGS)


def test_bad_deliveries_are_held_and_do_not_change_the_warnings(
    province: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SAFETYNET_PSEUDONYM_KEY", KEY)
    generate_province(DataRoot.from_env(tmp_path), check_truth=True, bad_deliveries=True, **ARGS)
    holds = truth_rows(tmp_path, "expected_holds.csv")
    assert {h["problem"] for h in holds} == {"truncated", "amounts_x100", "duplicate_keys"}
    landings = {r["file_name"]: r for r in truth_rows(tmp_path, "expected_landings.csv")}
    assert all(landings[h["file_name"]]["status"] == "landed" for h in holds)
    same = (province / "truth" / "expected_warnings.csv").read_bytes()
    assert (tmp_path / "truth" / "expected_warnings.csv").read_bytes() == same
