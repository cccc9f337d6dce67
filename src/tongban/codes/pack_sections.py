"""The `codes.yaml` pack section: code types — the subject dataset, the public card, the status rules.

```yaml
code_types:
  - id: code.domestic-worker
    family: {zh: 安心码, en: Peace-of-mind code}
    title: {zh: 家政服务人员安心码, en: Domestic worker code}
    issuer: dept.haishu.hrss            # the department that issues and revokes
    dataset: ds.housekeeping.worker-card  # the subjects (row ids) and their public card
    card: [display_name, services]        # shown as the public basis releases them
    status:
      dataset: ds.health.worker-certs     # read under the issuer's basis (owner or grant)
      green: {zh: 健康证有效, en: Health certificate valid}
      rules:                              # the worst matching colour wins
        - {colour: yellow, field: health_cert_valid_to, op: before_today, reason: {zh: …, en: …}}
```

Operators: `eq`, `ne`, `in` (value: a list), `lt`, `le`, `gt`, `ge`, `missing`, `before_today`
(a date before today, Asia/Shanghai), `within_days` (a date from today up to `value` days ahead).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any, Literal

from pydantic import Field
from sqlalchemy.orm import Session

from tongban.codes.models import CodeType
from tongban.core.packs.loader import Changes, Pack, PackFile, Problem, register_section
from tongban.core.packs.models import Defines, PackModel, RefersTo, SectionFile, StableId, Text

FieldName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
OPS = ("eq", "ne", "in", "lt", "le", "gt", "ge", "missing", "before_today", "within_days")
VALUELESS = ("missing", "before_today")


class RuleDecl(PackModel):
    colour: Literal["yellow", "red"]
    field: FieldName
    op: Literal["eq", "ne", "in", "lt", "le", "gt", "ge", "missing", "before_today", "within_days"]
    value: str | int | float | bool | list[str | int] | None = None
    reason: Text


class StatusDecl(PackModel):
    dataset: Annotated[str, RefersTo("dataset")] | None = None
    green: Text
    rules: list[RuleDecl] = Field(min_length=1)


class CodeTypeDecl(PackModel):
    id: Annotated[StableId, Defines("code_type")]
    family: Text
    title: Text
    issuer: Annotated[str, RefersTo("department")]
    dataset: Annotated[str, RefersTo("dataset")]
    card: list[FieldName] = Field(min_length=1)
    status: StatusDecl


class CodesFile(SectionFile):
    code_types: list[CodeTypeDecl]


def _fields(pack: Pack, dataset_id: str) -> set[str] | None:
    ds = pack.get("dataset", dataset_id)
    return None if ds is None else {f.name for f in ds.fields}


def check_codes(pf: PackFile, pack: Pack) -> Iterator[Problem]:
    model: CodesFile = pf.model
    for i, ct in enumerate(model.code_types):
        if not ct.id.startswith("code."):
            yield pf.problem(("code_types", i, "id"), "a code type's id starts with 'code.'")
        card = _fields(pack, ct.dataset)
        if card is not None:
            ds = pack.get("dataset", ct.dataset)
            if ds.table is None:
                yield pf.problem(("code_types", i, "dataset"), "the subject dataset must be held in a table")
            for j, name in enumerate(ct.card):
                if name not in card:
                    yield pf.problem(("code_types", i, "card", j), f"dataset {ct.dataset!r} has no field {name!r}")
        status_ds = ct.status.dataset or ct.dataset
        fields = _fields(pack, status_ds)
        if fields is not None:
            sds = pack.get("dataset", status_ds)
            if sds.table is None:
                yield pf.problem(("code_types", i, "status", "dataset"), "the status dataset must be held in a table")
            elif card is not None and sds.table != pack.get("dataset", ct.dataset).table:
                yield pf.problem(("code_types", i, "status", "dataset"),
                                 "the status dataset must describe the same records (table) as the subject dataset")
        for j, rule in enumerate(ct.status.rules):
            where = ("code_types", i, "status", "rules", j)
            if fields is not None and rule.field not in fields:
                yield pf.problem((*where, "field"), f"dataset {status_ds!r} has no field {rule.field!r}")
            if rule.op in VALUELESS and rule.value is not None:
                yield pf.problem((*where, "value"), f"{rule.op!r} takes no value")
            if rule.op not in VALUELESS and rule.value is None:
                yield pf.problem((*where, "value"), f"{rule.op!r} needs a value")
            if rule.op == "in" and not isinstance(rule.value, list):
                yield pf.problem((*where, "value"), "'in' needs a list")
            if rule.op == "within_days" and not (isinstance(rule.value, int) and 0 <= rule.value <= 3660):
                yield pf.problem((*where, "value"), "'within_days' needs a number of days (0–3660)")


def definition(ct: CodeTypeDecl) -> dict[str, Any]:
    return {"card": list(ct.card), "green": ct.status.green.model_dump(),
            "rules": [r.model_dump() | {"reason": r.reason.model_dump()} for r in ct.status.rules]}


def apply_codes(session: Session, files: list[PackFile], pack: Pack) -> Changes:
    from tongban.core.packs.sections import upsert

    changes = Changes()
    for pf in files:
        for ct in pf.model.code_types:
            changes.count(upsert(session, CodeType, ct.id, dict(
                id=ct.id, family_zh=ct.family.zh, family_en=ct.family.en, title_zh=ct.title.zh,
                title_en=ct.title.en, issuer_department_id=ct.issuer, dataset_id=ct.dataset,
                status_dataset_id=ct.status.dataset or ct.dataset, definition=definition(ct), pack_id=pack.id)))
    return changes


register_section("codes", CodesFile, apply=apply_codes, check=check_codes, order=70,
                 description="Code types (码): subject dataset, public card fields, status rules.")
