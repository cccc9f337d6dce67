"""Short names of the view fields and parameters for explanations (家庭月人均收入, 低保标准 …).

A side of a comparison is named by its source text in the policy (`household.vehicles`,
`param.dibao_standard`); one without a name here is shown as written (a parameter by its own
description)."""

from __future__ import annotations

import re
from typing import Any

LABELS: dict[str, tuple[str, str]] = {
    "income_monthly": ("月收入", "monthly income"),
    "income_monthly * 2": ("月收入的两倍", "Twice the monthly income"),
    "previous.income_monthly": ("上次筛查时月收入", "monthly income at the previous screening"),
    "assets": ("个人财产", "own assets"),
    "age_at(birth_date)": ("年龄", "age"),
    "disability_grade": ("残疾等级", "disability grade"),
    "employment_status": ("就业状态", "employment status"),
    "previous.employment_status": ("上次筛查时就业状态", "employment status at the previous screening"),
    "household.income_per_capita_monthly": ("家庭月人均收入", "Household monthly income per member"),
    "household.income_monthly": ("家庭月收入", "Household monthly income"),
    "household.previous_income_monthly": ("上次筛查时家庭月收入", "Household monthly income at the previous screening"),
    "household.assets_per_capita": ("家庭人均财产", "Household assets per member"),
    "household.assets_total": ("家庭财产", "Household assets"),
    "household.vehicles": ("家庭机动车数", "Motor vehicles"),
    "household.housing_area_per_capita": ("人均住房面积（平方米）", "Housing area per member (m²)"),
    "household.member_count": ("家庭人口", "Household members"),
    "medical_out_of_pocket": ("本人近12个月自付医疗费用", "own out-of-pocket medical costs over 12 months"),
    "household.medical_out_of_pocket": ("家庭近12个月自付医疗费用", "Household out-of-pocket medical costs over 12 months"),
    "min(param.large_medical_expense, household.income_monthly * 12 * param.large_medical_expense_percent / 100)": (
        "大额医疗支出线（5万元与家庭年收入一半之较低者）",
        "large-expense line (50,000 yuan or half the household's annual income, whichever is lower)"),
    "param.medical_expense_min": ("自付医疗费用下限", "out-of-pocket floor"),
    "param.dibao_standard": ("低保标准", "minimum living standard"),
    "param.dibao_assets_per_capita_max": ("低保人均财产上限", "dibao assets limit per member"),
    "param.dibao_housing_per_capita_max": ("低保人均住房面积上限", "dibao housing limit per member"),
    "param.low_income_assets_per_capita_max": ("低保边缘人均财产上限", "low-income assets limit per member"),
    "param.dibao_standard * param.low_income_percent / 100": ("低保边缘收入上限", "low-income ceiling"),
}
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*(?:\([^()]*\))?")
_OPS = {"*": " × ", "/": " ÷ ", "+": " + ", "-": " − "}
_LITERAL = re.compile(r'^(fen|yuan)\(\s*-?\d+(\.\d+)?\s*\)$|^-?\d+$|^".*"$|^(true|false)$')


def term_label(source: str, pset: Any = None) -> dict[str, str]:
    src = source.strip()
    if src in LABELS:
        zh, en = LABELS[src]
        return {"zh": zh, "en": en}
    if _LITERAL.match(src):
        return {"zh": "", "en": ""}
    if src.startswith("param.") and pset is not None and src[6:] in getattr(pset, "parameters", {}):
        d = pset.parameters[src[6:]].description
        return {"zh": re.sub(r"（.*?）$", "", d.zh), "en": re.sub(r"\s*\(.*?\)$", "", d.en)}
    return _composed(src, pset)


def _composed(src: str, pset: Any) -> dict[str, str]:
    """An expression without a name of its own, in words: each name it uses by its label, the
    arithmetic as symbols (低保标准 × 低保边缘收入上限 ÷ 100) — never the policy's source text; a
    name with no label makes it 计算所得的界限 (the computed limit)."""
    out = {"zh": "", "en": ""}
    rest = src
    while rest:
        rest = rest.lstrip()
        if not rest:
            break
        m = _NAME.match(rest)
        number = re.match(r"\d+(?:\.\d+)?", rest)
        if m:
            name = m.group(0)
            label = (LABELS.get(name) and dict(zip(("zh", "en"), LABELS[name], strict=True))) or (
                term_label(name, pset) if name.startswith("param.") and pset is not None
                and name[6:] in getattr(pset, "parameters", {}) else None)
            if not label:
                return {"zh": "计算所得的界限", "en": "the computed limit"}
            out = {k: out[k] + label[k] for k in out}
            rest = rest[m.end():]
        elif number:
            out = {k: out[k] + number.group(0) for k in out}
            rest = rest[number.end():]
        elif rest[0] in _OPS:
            out = {k: out[k] + _OPS[rest[0]] for k in out}
            rest = rest[1:]
        else:
            return {"zh": "计算所得的界限", "en": "the computed limit"}
    return out
