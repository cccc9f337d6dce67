"""Public catalogue pages (服务目录), open without a session: the search (`/search?q=`), the
catalogue by the twelve domains and by life event (`/catalogue`), and each item's or one-thing's
guide (办事指南, `/guide/{id}`) with its "开始办理" button — to the login page and back for a
visitor — and the actions other slices add under it (`services.guide_actions`).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from tongban.core import slices
from tongban.core.access import Principal
from tongban.core.errors import Invalid, NotFound
from tongban.core.i18n import N_, gettext
from tongban.core.slices import Link
from tongban.services import catalog, catalogue
from tongban.services.domains import DOMAINS, LIFE_EVENTS
from tongban.services.pages import SAVINGS_LABELS
from tongban.webkit.deps import DbSession, PagePrincipal
from tongban.webkit.templating import render

router = APIRouter(include_in_schema=False)

GUIDE_ACTIONS = "services.guide_actions"  # callables (session, item_id) -> Link | None


def guide_actions(session: Session, item_id: str) -> list[Link]:
    """What other slices offer under "开始办理" for this item (预约到厅办理 …), in their order."""
    out = []
    for action in slices.contributed(GUIDE_ACTIONS):
        link = action(session, item_id)
        if isinstance(link, Link) and link.href:
            out.append(link)
    return out


def _may_apply(principal: Principal) -> bool:
    """"开始办理" leads somewhere for a visitor (the login page, then back) and a resident; staff
    apply for residents at the counter, not here."""
    return principal.kind == "anonymous" or principal.has("self.apply")


@router.get("/search")
def search_page(request: Request, session: DbSession, principal: PagePrincipal, q: str | None = None) -> Response:
    """搜索: one-things and items whose guide text holds every word typed."""
    try:
        found = catalog.search(session, q=q)
    except Invalid as exc:
        return render(request, "services/search.html", {
            "q": (q or "")[:catalog.QUERY_MAX], "found": None, "error": gettext(exc.message)}, status_code=422)
    return render(request, "services/search.html", {"q": q or "", "found": found, "error": None})


@router.get("/catalogue")
def catalogue_page(request: Request, session: DbSession, principal: PagePrincipal, domain: str | None = None,
                   life_event: str | None = None) -> Response:
    """服务目录: the twelve domains and the life events; one of them chosen, its one-things and items."""
    if domain and domain not in DOMAINS:
        raise NotFound(N_("Unknown domain"), field="domain")
    if life_event and life_event not in LIFE_EVENTS:
        raise NotFound(N_("Unknown life event"), field="life_event")
    domains = catalog.domains(session)
    events = catalog.life_events()
    items = catalog.search_items(session)
    onethings = catalog.search_onethings(session)
    for e in events:
        e["count"] = (sum(e["id"] in i["life_events"] for i in items)
                      + sum(e["id"] in o["life_events"] for o in onethings))
    chosen: dict[str, Any] | None = None
    if domain or life_event:
        name = next(d["name"] for d in domains if d["id"] == domain) if domain else \
            next(e["name"] for e in events if e["id"] == life_event)
        chosen = {"name": name, "onethings": catalog.search_onethings(session, domain=domain, life_event=life_event),
                  "items": catalog.search_items(session, domain=domain, life_event=life_event)}
    return render(request, "services/catalogue.html", {
        "domains": [{"id": d["id"], "name": d["name"], "count": d["item_count"] + d["onething_count"]}
                    for d in domains],
        "life_events": events, "domain": domain, "life_event": life_event, "chosen": chosen})


@router.get("/guide/{guide_id}")
def guide_page(request: Request, session: DbSession, principal: PagePrincipal, guide_id: str) -> Response:
    """办事指南 of an item (`item.…`) or a one-thing (`onething.…`), then "开始办理"."""
    if guide_id in catalogue.current(session).onethings:
        guide = catalog.onething_guide(session, guide_id)
        guide["savings_rows"] = [{"label": label, **guide["savings"][key]} for key, label in SAVINGS_LABELS
                                 if key in guide["savings"]]
        return render(request, "services/guide_onething.html", {
            "g": guide, "start": f"/portal/apply/{guide['id']}", "may_apply": _may_apply(principal)})
    guide = catalog.item_guide(session, guide_id)
    return render(request, "services/guide.html", {
        "g": guide, "start": f"/portal/items/{guide['id']}", "may_apply": _may_apply(principal),
        "actions": [a for a in guide_actions(session, guide["id"]) if a.opens_for(principal)
                    or principal.kind == "anonymous"]})
