"""Chinese labels for the codes the ledger keeps in English (docs/outputs.md#the-run-report), as managers read them.

The ledger and the mart keep the short codes (analysts query them); the run report shows these labels, with
the code beside where a data engineer needs it. A code without a label is shown as it is.
"""

from __future__ import annotations

REJECTION_REASONS: dict[str, str] = {
    "bad_id_format": "身份证号格式错误（长度或字符）",
    "invalid_province": "身份证号省份代码无效",
    "invalid_birth_date": "身份证号出生日期无效",
    "bad_check_digit": "身份证号校验位错误",
    "id_spreadsheet_mangled": "身份证号被表格软件改成数字（科学计数法）",
    "bad_date": "日期无法识别",
    "bad_month": "年月无法识别",
    "bad_amount": "金额无法识别",
    "bad_int": "整数无法识别",
    "bad_region": "行政区划代码无效",
    "unknown_enum": "取值不在规定范围内",
    "missing_required": "必填项为空",
    "negative_amount": "金额为负数",
    "member_count_below_1": "家庭人口数小于 1",
    "death_after_cutoff": "死亡日期晚于数据截止日期",
    "id_certificate_mismatch": "身份证号与残疾人证号不一致",
    "missing_required_column": "整文件拒收：缺少必需的列",
    "undecodable": "整文件拒收：文字编码无法识别",
    "unreadable": "整文件拒收：文件无法读取",
    "empty_file": "整文件拒收：空文件",
    "conflicting_delivery": "整文件拒收：批次号冲突",
    "unknown_warning": "预警编号不存在",
    "other_county": "预警不属于本县区",
}


def reason_label(code: str | None) -> str:
    return REJECTION_REASONS.get(code or "", code or "")
