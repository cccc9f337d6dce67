"""The public service catalogue (服务目录): items and one-things by the twelve domains and by life
event, a search over them and their guides (办事指南). Public information: no login, nothing
personal. An item the pack marks `published: false` (未上线) is nowhere in it.

It reads the pack's catalogue snapshot (`services.catalogue`), not the tables, on every call."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import String, cast, or_, select
from sqlalchemy.orm import Session

from tongban.core import clock
from tongban.core.errors import Invalid, NotFound
from tongban.core.i18n import N_, get_locale, pick
from tongban.core.identity.models import Department
from tongban.core.text import free_text
from tongban.core.workdays import calendar
from tongban.places import service as places
from tongban.places.models import Place, PlaceCategory
from tongban.services import catalogue
from tongban.services.domains import DOMAINS, LIFE_EVENTS
from tongban.services.models import CertificateType, OneThing, ServiceItem

QUERY_MAX = 100  # characters of a search
GUIDE_PLACES_MAX = 10  # places shown on a guide page


def _name(pair: tuple[str, str]) -> dict[str, str]:
    return {"zh": pair[0], "en": pair[1]}


def _local(pair: tuple[str, str]) -> str:
    return pair[0] if get_locale().startswith("zh") else pair[1]


def _dept_name(dept: Department | None, fallback: str) -> str:
    return pick({"zh": dept.name_zh, "en": dept.name_en}) if dept else fallback


def published(item: ServiceItem) -> bool:
    return bool(item.definition.get("published", True))


def item_summary(item: ServiceItem, departments: Mapping[str, Department]) -> dict[str, Any]:
    d = item.definition
    return {"id": item.id, "code": item.code, "title": pick(d["title"]), "title_i18n": d["title"],
            "guide": pick(d["guide"]), "department": item.department_id,
            "department_name": _dept_name(departments.get(item.department_id), item.department_id),
            "domain": d["domain"], "life_events": d.get("life_events", []), "kind": d["kind"],
            "legal_basis": d["legal_basis"], "statutory_days": d["statutory_days"],
            "promised_days": d["promised_days"], "public_notice_days": d.get("notice_days")}


def onething_summary(ot: OneThing) -> dict[str, Any]:
    d = ot.definition
    return {"id": ot.id, "title": pick(d["title"]), "title_i18n": d["title"], "description": pick(d["description"]),
            "domain": d["domain"], "life_events": d.get("life_events", []), "items": d["items"],
            "savings": ot.savings}


def _items(cat: catalogue.Catalogue) -> list[ServiceItem]:
    return sorted((i for i in cat.items.values() if published(i)), key=lambda i: i.code)


def _onethings(cat: catalogue.Catalogue) -> list[OneThing]:
    return sorted(cat.onethings.values(), key=lambda o: o.id)


def domains(session: Session) -> list[dict[str, Any]]:
    """Each of the twelve domains, in the plan's order, with its items and one-things."""
    cat = catalogue.current(session)
    items, onethings = _items(cat), _onethings(cat)
    out = []
    for domain_id, pair in DOMAINS.items():
        its = [item_summary(i, cat.departments) for i in items if i.definition.get("domain") == domain_id]
        ots = [onething_summary(o) for o in onethings if o.definition.get("domain") == domain_id]
        out.append({"id": domain_id, "name": _local(pair), "name_i18n": _name(pair), "item_count": len(its),
                    "onething_count": len(ots), "items": its, "onethings": ots})
    return out


def clean_query(q: str | None) -> str:
    """A search text as searched: spaces folded, case folded; empty when there is none. `Invalid`
    naming `q` when it is longer than `QUERY_MAX` or holds a control or text-direction character."""
    text = free_text(q or "", field="q", max_length=None)  # tabs and line breaks: spaces, as typed
    text = " ".join(text.split()).casefold()
    if len(text) > QUERY_MAX:
        raise Invalid(N_("This value is too long"), field="q")
    return text


def _texts(*pairs: Any) -> Iterable[str]:
    for p in pairs:
        if isinstance(p, Mapping):
            yield from (str(v) for v in p.values())
        elif isinstance(p, str):
            yield p


def _item_haystack(item: ServiceItem, departments: Mapping[str, Department]) -> str:
    d = item.definition
    dept = departments.get(item.department_id)
    return " ".join(_texts(item.code, d["title"], d["guide"], d.get("applicants"), d.get("legal_basis"),
                           *(m["title"] for m in d.get("materials", [])),
                           {"zh": dept.name_zh, "en": dept.name_en} if dept else None)).casefold()


def _onething_haystack(ot: OneThing, items: Mapping[str, ServiceItem]) -> str:
    d = ot.definition
    return " ".join(_texts(d["title"], d["description"],
                           *(items[i].definition["title"] for i in d["items"] if i in items))).casefold()


def _matches(needle: str, haystack: str) -> bool:
    """Every word of the search is in the text (a Chinese search is usually one word)."""
    return all(word in haystack for word in needle.split())


def search_items(session: Session, *, domain: str | None = None, life_event: str | None = None,
                 q: str | None = None) -> list[dict[str, Any]]:
    """Items of a domain and/or life event whose guide text (title, guide, who may apply, legal
    basis, materials, department, code; either language) holds every word of `q`."""
    if domain and domain not in DOMAINS:
        raise Invalid(N_("Unknown domain"), field="domain")
    if life_event and life_event not in LIFE_EVENTS:
        raise Invalid(N_("Unknown life event"), field="life_event")
    needle = clean_query(q)
    cat = catalogue.current(session)
    out = []
    for item in _items(cat):
        d = item.definition
        if domain and d.get("domain") != domain:
            continue
        if life_event and life_event not in d.get("life_events", []):
            continue
        if needle and not _matches(needle, _item_haystack(item, cat.departments)):
            continue
        out.append(item_summary(item, cat.departments))
    return out


def search_onethings(session: Session, *, domain: str | None = None, life_event: str | None = None,
                     q: str | None = None) -> list[dict[str, Any]]:
    """One-things filtered as `search_items` filters items (their title, description, items' titles)."""
    if domain and domain not in DOMAINS:
        raise Invalid(N_("Unknown domain"), field="domain")
    if life_event and life_event not in LIFE_EVENTS:
        raise Invalid(N_("Unknown life event"), field="life_event")
    needle = clean_query(q)
    cat = catalogue.current(session)
    return [onething_summary(ot) for ot in _onethings(cat)
            if (not domain or ot.definition.get("domain") == domain)
            and (not life_event or life_event in ot.definition.get("life_events", []))
            and (not needle or _matches(needle, _onething_haystack(ot, cat.items)))]


def search(session: Session, *, q: str | None) -> dict[str, Any]:
    """The search box: one-things and items whose guide text holds every word of `q`; nothing
    for an empty search."""
    needle = clean_query(q)
    if not needle:
        return {"q": "", "onethings": [], "items": []}
    return {"q": needle, "onethings": search_onethings(session, q=needle), "items": search_items(session, q=needle)}


def life_events() -> list[dict[str, Any]]:
    return [{"id": k, "name": _local(v), "name_i18n": _name(v)} for k, v in LIFE_EVENTS.items()]


# --- 办事指南: the guide of an item or a one-thing --------------------------------------------------


def published_item(session: Session, item_id: str) -> ServiceItem:
    """A published item of the current pack (`NotFound` naming `item_id` otherwise)."""
    item = catalogue.current(session).items.get(item_id)
    if item is None or not published(item):
        raise NotFound(N_("No such service item"), field="item_id")
    return item


def _places(session: Session, item: ServiceItem) -> list[dict[str, Any]]:
    """Where to go: the halls the item names and the places that list it, with today's hours."""
    halls = list(item.definition.get("halls", []))
    # a prefilter on the JSON text (both databases), then the list itself decides
    listed = cast(Place.items, String).like(f'%"{item.id}"%')
    rows = session.scalars(select(Place).where(or_(Place.key.in_(halls), listed) if halls else listed)
                           .order_by(Place.category, Place.key).limit(200))
    found = [p for p in rows if p.key in halls or item.id in (p.items or [])]
    found.sort(key=lambda p: (p.key not in halls, halls.index(p.key) if p.key in halls else 0, p.key))
    titles = {c.code: pick({"zh": c.title_zh, "en": c.title_en}) for c in session.scalars(select(PlaceCategory))}
    cal, at = calendar(session), clock.now()
    out = []
    for p in found[:GUIDE_PLACES_MAX]:
        state = places.open_state(p.hours, at, cal)
        out.append({"id": p.id, "key": p.key, "name": pick({"zh": p.name_zh, "en": p.name_en or p.name_zh}),
                    "category": titles.get(p.category, p.category), "address": p.address, "phone": p.phone,
                    "open_now": state.open_now, "today": state.today, "region_code": p.region_code})
    return out


def item_guide(session: Session, item_id: str) -> dict[str, Any]:
    """办事指南 of a published item: who may apply, materials, time limits, fee, legal basis,
    where and when to go (its halls and listing places, else the department), online or not, and
    the one-things it is part of."""
    cat = catalogue.current(session)
    item = published_item(session, item_id)
    d = item.definition
    certs = {}
    for m in d.get("materials", []):
        if m.get("certificate"):
            ct = session.get(CertificateType, m["certificate"])
            certs[m["certificate"]] = pick(ct.definition["title"]) if ct else m["certificate"]
    return {
        **item_summary(item, cat.departments),
        "applicants": pick(d["applicants"]) if d.get("applicants") else None,
        "fee": pick(d["fee"]) if d.get("fee") else None,
        "where": pick(d["where"]) if d.get("where") else None,
        "hours": pick(d["hours"]) if d.get("hours") else None,
        "visits": d.get("visits", 1), "online": d.get("visits", 1) == 0,
        "materials": [{"id": m["id"], "title": pick(m["title"]), "required": m.get("required", True),
                       "types": m.get("types", []), "max_kb": m.get("max_kb"),
                       "certificate": certs.get(m["certificate"]) if m.get("certificate") else None}
                      for m in d.get("materials", [])],
        "steps": [pick(s["title"]) for s in d["steps"]],
        "places": _places(session, item),
        "onethings": [{"id": o.id, "title": pick(o.definition["title"])} for o in _onethings(cat)
                      if item.id in o.definition["items"]],
    }


def onething_guide(session: Session, onething_id: str) -> dict[str, Any]:
    """The guide of a one-thing: what it is, its items (each with its own guide), and what applying
    once saves."""
    cat = catalogue.current(session)
    ot = cat.onethings.get(onething_id)
    if ot is None:
        raise NotFound(N_("No such one-thing"), field="onething_id")
    d = ot.definition
    return {**onething_summary(ot),
            "item_guides": [item_summary(cat.items[i], cat.departments) for i in d["items"] if i in cat.items],
            "optional": d.get("optional", []), "visits": d.get("visits", 0)}
