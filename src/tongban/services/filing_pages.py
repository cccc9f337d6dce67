"""找人帮我办 in the pages: a resident lets a relative apply for them (授权代办: grant, see,
revoke) and the relative starts the form for them; a counter officer at a street or community
service centre (`counter.file`) files for a resident who comes in, after checking their identity
and recording their consent. The rules are the API's (`proxies`, `applications.submit`).
"""

from __future__ import annotations

import secrets
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from tongban.core import access, masking
from tongban.core.errors import Invalid, NotFound, TongbanError
from tongban.core.i18n import N_, pick
from tongban.core.ids import Id
from tongban.registry import reads as registry_reads
from tongban.services import applications, onething, proxies
from tongban.services.models import Application, OneThing, ServiceItem
from tongban.services.pages import (
    _attacher,
    _attempt,
    _error_key,
    _field_errors,
    _form_data,
    _item_parts,
    _on_behalf,
    _onething_parts,
    _render,
    _render_form,
    _see_other,
)
from tongban.webkit.deps import DbSession, SignedIn
from tongban.webkit.forms import PostedForm

router = APIRouter(include_in_schema=False)

CONSENT_LABELS = {"signature": N_("signed by the resident"), "verbal": N_("given orally")}
DAY_CHOICES = (7, 30, 90, 180, 366)


def _targets(session: Session) -> list[dict[str, str]]:
    """What can be applied for: each one-thing, then each item, as `ot:<id>` / `item:<id>`."""
    out = [{"value": f"ot:{ot.id}", "title": pick(ot.definition["title"])} for ot in onething.list_onethings(session)]
    out += [{"value": f"item:{i.id}", "title": pick(i.definition["title"])}
            for i in session.scalars(select(ServiceItem).order_by(ServiceItem.id))]
    return out


def _target(session: Session, raw: Any) -> OneThing | ServiceItem:
    value = str(raw or "")
    try:
        if value.startswith("ot:"):
            return onething.get_onething(session, value[3:])
        if value.startswith("item:"):
            return onething.get_item(session, value[5:])
    except NotFound:
        pass
    raise Invalid(N_("Choose what to apply for"), field="target")


# --- 找人帮我办: authorisations --------------------------------------------------------------------


def _proxies_page(request: Request, session: Session, principal: access.Principal, *,
                  error: TongbanError | None = None, form: dict[str, Any] | None = None,
                  status_code: int = 200) -> Response:
    try:
        rows, _ = proxies.authorisations(session, principal=principal, limit=100)
    except NotFound:  # an account with no registry record (a platform admin) has none
        rows = []
    given: list[dict[str, Any]] = []
    received: list[dict[str, Any]] = []
    for a, direction in rows:
        view = proxies.authorisation_dict(session, a, direction)
        view["scope_title"] = (onething.scope_title(session, a.scope) or a.scope) if a.scope != "all" else None
        view["start"] = (f"ot:{a.scope}" if session.get(OneThing, a.scope) is not None else f"item:{a.scope}"
                         ) if a.scope != "all" else None
        (given if direction == "given" else received).append(view)
    return _render(request, "services/proxies.html", {
        "given": given, "received": received, "wards": _wards(session, principal), "targets": _targets(session), "days": DAY_CHOICES,
        "error": error, "error_message": error.translated() if error else None,
        "error_field": error.field if error else None, "form": form or {}}, status_code=status_code)


def _wards(session: Session, principal: access.Principal) -> list[dict[str, Any]]:
    """The caller's wards (a parent's minor children): a guardian may apply for them."""
    me = registry_reads.person_of_account(session, principal.account_id) if principal.account_id else None
    if me is None:
        return []
    out = []
    for ward_id in registry_reads.wards_of(session, me.id):
        ward = registry_reads.person(session, ward_id)
        if ward is not None:
            out.append({"person_id": ward.id, "name": masking.name(ward.name)})
    return out


@router.get("/portal/proxies")
def proxies_page(request: Request, session: DbSession, principal: SignedIn) -> Response:
    """找人帮我办: who may apply for me (grant, revoke), and for whom I may apply."""
    access.require(principal, "self.apply")
    return _proxies_page(request, session, principal)


@router.post("/portal/proxies")
def proxies_grant(request: Request, session: DbSession, principal: SignedIn, form: PostedForm) -> Response:
    """Let a relative (by resident ID number) apply for me: everything, a one-thing or an item."""
    access.require(principal, "self.apply")
    number, scope, days_raw = (str(form.get(k) or "").strip() for k in ("proxy_id_number", "scope", "days"))
    typed = {"proxy_id_number": number, "scope": scope, "days": days_raw}
    if scope not in ("", "all"):
        try:
            scope = _target(session, scope).id
        except Invalid:
            return _proxies_page(request, session, principal, form=typed, status_code=422,
                                 error=Invalid(N_("Authorise everything, a one-thing or an item"), field="scope"))
    days = int(days_raw) if days_raw.isdigit() and len(days_raw) < 5 else 0
    _, exc = _attempt(session, lambda: proxies.authorise(session, principal=principal, proxy_id_number=number,
                                                         scope=scope or "all", days=days))
    if exc is not None:
        return _proxies_page(request, session, principal, error=exc, form=typed, status_code=exc.status)
    return _see_other("/portal/proxies?granted=1")


@router.post("/portal/proxies/{authorisation_id}/revoke")
def proxies_revoke(request: Request, session: DbSession, principal: SignedIn, authorisation_id: Id) -> Response:
    """Withdraw an authorisation I gave, effective at once."""
    access.require(principal, "self.apply")
    _, exc = _attempt(session, lambda: proxies.revoke(session, principal=principal, authorisation_id=authorisation_id))
    if exc is not None:
        return _proxies_page(request, session, principal, error=exc, status_code=exc.status)
    return _see_other("/portal/proxies")


@router.get("/portal/proxies/start")
def proxies_start(request: Request, session: DbSession, principal: SignedIn, on_behalf_of: Id,
                  target: str = "") -> Response:
    """Apply for the person who authorised me: the chosen one-thing's or item's form, for them."""
    access.require(principal, "self.apply")
    chosen = _target(session, target)
    _on_behalf(session, principal, on_behalf_of, chosen.id)  # refused (403) unless they may
    base = f"/portal/apply/{chosen.id}" if isinstance(chosen, OneThing) else f"/portal/items/{chosen.id}"
    return _see_other(f"{base}/form?on_behalf_of={on_behalf_of}")


# --- 一窗受理 at a street or community service centre ------------------------------------------------


def _counter_page(request: Request, session: Session, principal: access.Principal, *,
                  error: TongbanError | None = None, form: dict[str, Any] | None = None,
                  filed: int | None = None, status_code: int = 200) -> Response:
    mine = list(session.scalars(select(Application).where(Application.filed_by_account_id == principal.account_id,
                                                          Application.filing == "counter")
                                .order_by(Application.id.desc()).limit(20)))
    titles = {}
    for a in mine:
        t = (session.get(OneThing, a.onething_id) if a.onething_id else session.get(ServiceItem, a.item_id))
        titles[a.id] = pick(t.definition["title"]) if t is not None else ""
    return _render(request, "services/counter.html", {
        "targets": _targets(session), "consents": CONSENT_LABELS, "filings": mine, "titles": titles,
        "filed": filed, "error": error, "error_message": error.translated() if error else None,
        "error_field": error.field if error else None, "form": form or {}}, status_code=status_code)


@router.get("/workbench/counter")
def counter_page(request: Request, session: DbSession, principal: SignedIn, filed: Id | None = None) -> Response:
    """一窗受理: start a filing for the resident at the window; the officer's recent filings."""
    access.require(principal, "counter.file")
    return _counter_page(request, session, principal, filed=filed)


def _counter_filing(session: Session, principal: access.Principal, form: Any) -> dict[str, Any]:
    """The resident (by the ID number checked at the window, in the officer's region) and the
    consent recorded, as the form carries them; refused as a submission would refuse them."""
    number = str(form.get("id_number") or "").strip()
    method, note = str(form.get("consent_method") or ""), str(form.get("consent_note") or "").strip()
    target = _target(session, form.get("target"))
    filer = proxies.filer_for(session, principal=principal, on_behalf_of=None, scopes=[target.id],
                              counter={"id_number": number, "consent": {"method": method, "note": note or None}})
    return {"kind": "counter", "name": masking.name(filer.person.name), "id_number": number, "method": method,
            "method_label": CONSENT_LABELS[method], "note": note,
            "target": f"ot:{target.id}" if isinstance(target, OneThing) else f"item:{target.id}", "of": target}


def _counter_parts(session: Session, target: OneThing | ServiceItem) -> tuple[Any, Any, Any]:
    return (_onething_parts(session, target.id) if isinstance(target, OneThing) else _item_parts(session, target.id))


@router.post("/workbench/counter/start")
def counter_start(request: Request, session: DbSession, principal: SignedIn, form: PostedForm) -> Response:
    """The resident's identity and consent checked: their form, filled in at the window."""
    access.require(principal, "counter.file")
    typed = {k: str(form.get(k) or "") for k in ("id_number", "consent_method", "consent_note", "target")}
    try:
        filing = _counter_filing(session, principal, form)
    except (Invalid, NotFound) as exc:
        return _counter_page(request, session, principal, error=exc, form=typed, status_code=exc.status)
    target = filing.pop("of")
    ot, items, elements = _counter_parts(session, target)
    return _render_form(request, session, principal, ot, items, elements, consent_id=None, filing=filing,
                        key=secrets.token_urlsafe(24))


@router.post("/workbench/counter/form")
def counter_submit(request: Request, session: DbSession, principal: SignedIn, form: PostedForm) -> Response:
    """Submit at the window for the resident; a refusal shows the form again, input kept."""
    access.require(principal, "counter.file")
    try:
        filing = _counter_filing(session, principal, form)
    except (Invalid, NotFound) as exc:
        typed = {k: str(form.get(k) or "") for k in ("id_number", "consent_method", "consent_note", "target")}
        return _counter_page(request, session, principal, error=exc, form=typed, status_code=exc.status)
    target = filing.pop("of")
    ot, items, elements = _counter_parts(session, target)
    data = _form_data(form, elements)
    key = str(form.get("idempotency_key") or "")
    errors = _field_errors(items, elements, data)
    if not errors:
        counter = {"id_number": filing["id_number"],
                   "consent": {"method": filing["method"], "note": filing["note"] or None}}
        result, refused = _attempt(session, lambda: applications.submit(
            session, principal=principal, idempotency_key=key, data=data, counter=counter,
            onething_id=target.id if isinstance(target, OneThing) else None,
            item_id=target.id if isinstance(target, ServiceItem) else None,
            attach=_attacher(request, session, principal, form, items)))
        if refused is None and result is not None:
            return _see_other(f"/workbench/counter?filed={result[0].id}")
        assert refused is not None
        errors = {_error_key(refused, elements): refused.translated()}
    return _render_form(request, session, principal, ot, items, elements, consent_id=None,
                        values={k: form.get(k) for k in elements}, errors=errors, key=key or None,
                        status_code=422, filing=filing)
