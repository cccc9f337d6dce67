"""The public service catalogue (服务目录): items and one-things by the twelve domains and by life
event, and a search over them. Public information: no login, nothing personal."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tongban.core.errors import Invalid
from tongban.core.i18n import N_, get_locale, pick
from tongban.core.identity.models import Department
from tongban.services.domains import DOMAINS, LIFE_EVENTS
from tongban.services.models import OneThing, ServiceItem


def _name(pair: tuple[str, str]) -> dict[str, str]:
    return {"zh": pair[0], "en": pair[1]}


def _local(pair: tuple[str, str]) -> str:
    return pair[0] if get_locale().startswith("zh") else pair[1]


def item_summary(item: ServiceItem, departments: dict[str, Department]) -> dict[str, Any]:
    d = item.definition
    dept = departments.get(item.department_id)
    return {"id": item.id, "code": item.code, "title": pick(d["title"]), "title_i18n": d["title"],
            "guide": pick(d["guide"]), "department": item.department_id,
            "department_name": pick({"zh": dept.name_zh, "en": dept.name_en}) if dept else item.department_id,
            "domain": d["domain"], "life_events": d.get("life_events", []), "kind": d["kind"],
            "legal_basis": d["legal_basis"], "statutory_days": d["statutory_days"],
            "promised_days": d["promised_days"], "public_notice_days": d.get("notice_days")}


def onething_summary(ot: OneThing) -> dict[str, Any]:
    d = ot.definition
    return {"id": ot.id, "title": pick(d["title"]), "title_i18n": d["title"], "description": pick(d["description"]),
            "domain": d["domain"], "life_events": d.get("life_events", []), "items": d["items"],
            "savings": ot.savings}


def _departments(session: Session) -> dict[str, Department]:
    return {d.id: d for d in session.scalars(select(Department))}


def domains(session: Session) -> list[dict[str, Any]]:
    """Each of the twelve domains, in the plan's order, with its items and one-things."""
    departments = _departments(session)
    items = list(session.scalars(select(ServiceItem).order_by(ServiceItem.code)))
    onethings = list(session.scalars(select(OneThing).order_by(OneThing.id)))
    out = []
    for domain_id, pair in DOMAINS.items():
        its = [item_summary(i, departments) for i in items if i.definition.get("domain") == domain_id]
        ots = [onething_summary(o) for o in onethings if o.definition.get("domain") == domain_id]
        out.append({"id": domain_id, "name": _local(pair), "name_i18n": _name(pair), "item_count": len(its),
                    "onething_count": len(ots), "items": its, "onethings": ots})
    return out


def search_items(session: Session, *, domain: str | None = None, life_event: str | None = None,
                 q: str | None = None) -> list[dict[str, Any]]:
    """Items of a domain and/or life event whose title, guide or code contains `q` (any language)."""
    if domain and domain not in DOMAINS:
        raise Invalid(N_("Unknown domain"), field="domain")
    if life_event and life_event not in LIFE_EVENTS:
        raise Invalid(N_("Unknown life event"), field="life_event")
    needle = (q or "").strip().casefold()
    if len(needle) > 100:
        raise Invalid(N_("This value is too long"), field="q")
    departments = _departments(session)
    out = []
    for item in session.scalars(select(ServiceItem).order_by(ServiceItem.code)):
        d = item.definition
        if domain and d.get("domain") != domain:
            continue
        if life_event and life_event not in d.get("life_events", []):
            continue
        if needle:
            haystack = " ".join([item.code, *d["title"].values(), *d["guide"].values()]).casefold()
            if needle not in haystack:
                continue
        out.append(item_summary(item, departments))
    return out


def life_events() -> list[dict[str, Any]]:
    return [{"id": k, "name": _local(v), "name_i18n": _name(v)} for k, v in LIFE_EVENTS.items()]
