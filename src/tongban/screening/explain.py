"""Explanations a case worker and a resident can read: each criterion met or missed, with the
person's actual value and the threshold in force for their region and date, e.g.
"家庭月人均收入 843 元 < 海曙区低保标准 1,118 元" / "… 843 yuan < Haishu District … 1,118 yuan".
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tongban.core.i18n import get_locale
from tongban.core.identity.models import Region
from tongban.screening.engine import CriterionResult, Term

SYMBOLS = {"lt": "<", "le": "≤", "gt": ">", "ge": "≥", "eq": "=", "ne": "≠"}
# The comparison as the person's case stands: a missed `<` reads as `≥`.
NEGATED = {"lt": "ge", "le": "gt", "gt": "le", "ge": "lt", "eq": "ne", "ne": "eq"}
UNITS = {"money": {"zh": "元", "en": "yuan"}}


def _lang(locale: str) -> str:
    return "zh" if locale.startswith("zh") else "en"


def format_value(value: Any, type_: str, lang: str) -> str:
    """Money (fen) in yuan with thousands separators; 843.50 keeps its fen."""
    if value is None:
        return "—" if lang == "zh" else "(missing)"
    if type_ == "money":
        yuan, fen = divmod(int(value), 100)
        text = f"{yuan:,}" if not fen else f"{yuan:,}.{fen:02d}"
        return f"{text} {UNITS['money'][lang]}"
    if type_ == "bool":
        return ("是" if value else "否") if lang == "zh" else ("yes" if value else "no")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _region_names(session: Session, codes: set[str]) -> dict[str, dict[str, str]]:
    if not codes:
        return {}
    rows = session.execute(select(Region.code, Region.name_zh, Region.name_en).where(Region.code.in_(codes)))
    return {code: {"zh": zh, "en": en} for code, zh, en in rows}


def _term(t: Term, lang: str, regions: dict[str, dict[str, str]]) -> str:
    label = t.label.get(lang) or t.label.get("zh", "")
    if t.region_code and t.region_code in regions:
        region = regions[t.region_code][lang]
        label = f"{region}{label}" if lang == "zh" else f"{region} {label[:1].lower()}{label[1:]}"
    return f"{label} {format_value(t.value, t.type, lang)}".strip()


def sentence(c: CriterionResult, lang: str, regions: dict[str, dict[str, str]]) -> str:
    """One criterion as a sentence in `lang` (zh | en)."""
    description = c.description.get(lang) or c.description.get("zh", c.id)
    if c.actual is None or c.op is None or c.threshold is None:
        return description
    if c.actual.value is None:
        missing = "（数据缺失）" if lang == "zh" else " (value missing)"
        return f"{c.actual.label.get(lang, '')}{missing}"
    op = c.op if c.met else NEGATED[c.op]
    return f"{_term(c.actual, lang, regions)} {SYMBOLS[op]} {_term(c.threshold, lang, regions)}"


def explain_texts(session: Session, criteria: list[CriterionResult],
                  locale: str | None = None) -> list[dict[str, Any]]:
    """The criteria as the API and pages show them: met, the sentence in zh and en, the values,
    and `text` in the reader's language."""
    codes = {t.region_code for c in criteria for t in (c.actual, c.threshold) if t is not None and t.region_code}
    regions = _region_names(session, codes)
    lang = _lang(locale or get_locale())
    out = []
    for c in criteria:
        texts = {"zh": sentence(c, "zh", regions), "en": sentence(c, "en", regions)}
        out.append({**c.to_json(), "text": texts[lang], "texts": texts})
    return out


# --- the service: who may see whose explanation --------------------------------------------------


def explain_case(session: Session, *, principal: Any, var_dir: Any, person_id: int, policy_id: str,
                 run_id: int | None = None) -> dict[str, Any]:
    """Each criterion of `policy_id` for one person, from the latest run that screened them
    (or `run_id`). Staff need person.read, their department's basis for the person view and
    the person in their region; a resident sees only their own. Audited as a personal-data read."""
    from pathlib import Path

    from tongban.core import access, masking
    from tongban.core.audit.log import record
    from tongban.core.errors import Invalid, NotFound
    from tongban.core.i18n import N_
    from tongban.datahub.exchange import basis_for
    from tongban.registry import reads
    from tongban.screening.engine import policy_engine
    from tongban.screening.models import ScreeningRun
    from tongban.screening.runs import snapshot_dir

    engine = policy_engine()
    policies = engine.policies(session)
    if policy_id not in policies:
        raise Invalid(N_("No such policy"), field="policy")
    person = reads.person(session, person_id)
    if principal.kind == "resident":
        from tongban.services.family import applicant_person

        access.require(principal, "self.read")
        try:
            own = applicant_person(session, principal.account_id)
        except NotFound:  # no record linked: nothing of theirs to explain
            own = None
        if person is None or own is None or own.id != person.id:
            raise NotFound(N_("No such person"), field="person_id")
    else:
        access.require(principal, "person.read")
        if person is None:
            raise NotFound(N_("No such person"), field="person_id")
        access.require_region(principal, person.region_code)
        basis_for(session, principal=principal, dataset_id="ds.person", subject_id=person.id)
    # Registry runs only: a Parquet-source run's persons are not read through the exchange here.
    q = select(ScreeningRun).where(ScreeningRun.status == "done", ScreeningRun.source.is_(None))
    if run_id is not None:
        q = q.where(ScreeningRun.id == run_id)
    run = None
    for candidate in session.scalars(q.order_by(ScreeningRun.id.desc()).limit(50)):
        if policy_id in candidate.policy_ids and access.in_subtree(person.region_code, candidate.region_code or ""):
            run = candidate
            break
    if run is None:
        raise NotFound(N_("No screening run has assessed this person for this policy"), field="run_id")
    criteria = engine.explain(Path(snapshot_dir(var_dir, run.snapshot_id)), policy_id=policy_id,
                              person_id=person.id, as_of=run.as_of)
    record(session, actor=principal.actor, actor_department=principal.department_id, action="screening.explain",
           subject=masking.subject("person", person.id), region_code=person.region_code,
           purpose="政策资格解释 (entitlement explanation)", details={"policy": policy_id, "run": run.id})
    info = policies[policy_id]
    return {"policy_id": policy_id, "policy_title": info.title, "person_id": person.id, "run_id": run.id,
            "as_of": run.as_of, "eligible": all(c.met for c in criteria) if criteria else None,
            "criteria": explain_texts(session, criteria)}
