"""What a warning workbook looks like: its columns, labels and the answers staff may give.

docs/outputs.md#county-workbooks fixes the columns and their order (the `feedback` contract reads the answer
columns back by header), docs/rules.md#warnings the rule names. The allowed answers are read from the feedback
contract, so a value added there shows up in the drop-downs without touching this file.
"""

from __future__ import annotations

from dataclasses import dataclass

from ingestion.contracts import load_contract
from ingestion.rule_catalogue import rule_names

FEEDBACK_DATASET = "feedback"  # the contract of the answers read back from a returned workbook

OPEN_STATUSES = ("待核查", "逾期")
LEVELS = ("红", "橙", "黄")
LEVEL_RANK = {level: rank for rank, level in enumerate(LEVELS)}
PROVINCE_CODE = "370000"
PROVINCE_NAME = "山东省"

# the rule's name is the workbook's 预警类型 (dbt_project/seeds/warning_rules.csv, also read by the models)
RULE_NAMES: dict[str, str] = rule_names()


@dataclass(frozen=True)
class Column:
    header: str
    kind: str  # text | id | date | answer_enum | answer_date | answer_text | level | status | long_text
    explanation: str
    field: str | None = None  # contract field for answer columns


COLUMNS: tuple[Column, ...] = (
    Column(
        "预警编号",
        "text",
        "平台生成的预警唯一编号，回传时据此识别，请勿修改。按月发生的预警（如死亡未退）同一对象合并为一行，"
        "本格每行一个编号，填写的核查结果适用于其中每一个。",
    ),  # fmt: skip
    Column("预警等级", "level", "红、橙、黄三级，决定核查期限。"),
    Column("预警类型", "text", "触发预警的规则名称。"),
    Column("规则编号", "text", "W01–W11 为预警规则，D01、D02 为主动发现线索。"),
    Column("子类", "text", "规则的子情形（a/b/c），无子情形为空。"),
    Column("乡镇(街道)", "text", "预警派发的乡镇（街道）；有名称时显示名称，否则显示代码。主动发现线索可能为空。"),
    Column("村(社区)", "text", "家庭居住地的村（社区）；有名称时显示名称，否则显示12位区划代码。"),
    Column("家庭编号", "text", "民政家庭编号，防返贫监测户为户编码。"),
    Column("户主姓名", "text", "家庭户主姓名。"),
    Column("户主身份证号", "id", "户主公民身份号码（文本格式，18位）。"),
    Column("对象姓名", "text", "预警所指人员（如死亡人员、失业成员、重复救助人员）姓名；针对整户的预警为空。"),
    Column("对象身份证号", "id", "预警所指人员的公民身份号码（文本格式，18位）。"),
    Column("救助类别", "text", "家庭当前救助类别。"),
    Column("触发依据", "long_text", "触发预警的数据和日期；合并的行按月份逐行列出。"),
    Column("涉及月份", "text", "按月发生的预警合并为一行时，列出涉及的月份；其他预警为空。"),
    Column("首次预警日期", "date", "平台首次发出该预警的日期。"),
    Column("核查期限", "date", "应在此日期前（含）完成核查并回传，按工作日计算。"),
    Column("状态", "status", "待核查，或已超过核查期限的逾期。"),
    Column("建议措施", "long_text", "平台建议的处置方向，仅供参考。"),
    Column("核查结果", "answer_enum", "必填：从下拉列表选择 属实、不属实 或 无法核实。留空视为尚未核查。", "finding"),
    Column("处置措施", "answer_enum", "从下拉列表选择处置措施；无需处置请选“无需处置”。", "action"),
    Column("核查日期", "answer_date", "必填：实地核查日期，日期格式（如 2026-11-05）。", "checked_on"),
    Column("核查人", "answer_text", "必填：核查人姓名。", "checked_by"),
    Column("备注", "answer_text", "选填：需要说明的其他情况。", "remark"),
)
HEADERS: tuple[str, ...] = tuple(c.header for c in COLUMNS)

# Column widths (Excel character units: a Chinese character takes two) chosen for print: the 24 columns fit
# the width of an A4 landscape page, every cell wraps inside its column and each row grows to show it all.
# Long codes wrap too (an 18-digit ID on two lines of nine); only the dates keep one line.
PRINT_WIDTHS: dict[str, float] = {
    "预警编号": 12.5, "预警等级": 4.5, "预警类型": 8, "规则编号": 4.5, "子类": 3.5, "乡镇(街道)": 8, "村(社区)": 7.5,
    "家庭编号": 8, "户主姓名": 6, "户主身份证号": 10.5, "对象姓名": 6, "对象身份证号": 10.5, "救助类别": 7,
    "触发依据": 22, "涉及月份": 7.5, "首次预警日期": 10.5, "核查期限": 10.5, "状态": 4.5, "建议措施": 10,
    "核查结果": 6, "处置措施": 7, "核查日期": 10.5, "核查人": 6, "备注": 7,
}  # fmt: skip
ANSWER_HEADERS: tuple[str, ...] = tuple(c.header for c in COLUMNS if c.kind.startswith("answer"))

LIST_SHEET = "预警清单"
SUMMARY_SHEET = "汇总"
NOTES_SHEET = "说明"
COUNTY_CODE_LABEL = "县区代码"  # the 说明 sheet's key that identifies a returned workbook


def allowed_answers(field: str) -> tuple[str, ...]:
    """The canonical enum values the feedback contract accepts for `field` (finding, action)."""
    column = load_contract(FEEDBACK_DATASET).column(field)
    if not column.values:
        raise KeyError(f"feedback contract has no enum field {field!r}")
    return tuple(column.values)


def rule_name(rule_code: str) -> str:
    return RULE_NAMES.get(rule_code, rule_code)


def workbook_name(county_code: str, county_name: str, run_date: str) -> str:
    """docs/outputs.md#county-workbooks: the code leads because county names repeat (市中区)."""
    if county_code == PROVINCE_CODE:
        return f"{PROVINCE_CODE}_{PROVINCE_NAME}_低收入人口预警汇总_{run_date}.xlsx"
    return f"{county_code}_{county_name}_低收入人口预警清单_{run_date}.xlsx"
