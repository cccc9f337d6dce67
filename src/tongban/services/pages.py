"""One-thing pages. Portal: 我要办 (the one-things and what each saves, the consent box, the
merged form with inline checks), 我要查 (my applications, progress, 补正, withdrawal), the
wallet and the inbox. Workbench: the department's queue and its export, the task page
(masked data, decide, reassign) and the department's dashboard.

Handlers call the service functions (the same checks, masking and audit as the API). A
refused form is shown again with its messages and the user's input; the failed attempt runs
in a savepoint so nothing of it is written.
"""

from __future__ import annotations

import io
import secrets
from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData, UploadFile

from tongban.core import access, clock, masking, workdays
from tongban.core.errors import Conflict, Invalid, NotFound, TongbanError
from tongban.core.i18n import N_, gettext, pick
from tongban.core.ids import Id, valid_id
from tongban.core.keys import keyring_for
from tongban.core.storage import storage_for
from tongban.registry import reads as registry_reads
from tongban.registry import service as registry
from tongban.services import (
    applications,
    certificates,
    materials,
    onething,
    portal,
    prefill,
    proxies,
    sla,
    workbench,
)
from tongban.services.catalog import published_item
from tongban.services.catalogue import current as current_catalogue
from tongban.services.models import Application, DataElement, OneThing, ServiceItem
from tongban.webkit.deps import DbSession, SignedIn
from tongban.webkit.forms import PostedForm
from tongban.webkit.templating import render

router = APIRouter(include_in_schema=False)
T = TypeVar("T")

STATUS_LABELS = {
    "draft": N_("Draft"), "submitted": N_("Submitted"), "in_progress": N_("In progress"),
    "completed": N_("Completed"), "partly_completed": N_("Partly completed"), "rejected": N_("Rejected"),
    "withdrawn": N_("Withdrawn"), "blocked": N_("Waiting for another department"), "ready": N_("Waiting for review"),
    "claimed": N_("Under review"), "returned": N_("Returned for supplement"), "approved": N_("Approved"),
    "cancelled": N_("Cancelled"), "public_notice": N_("Under public notice (公示)"), "valid": N_("Valid"), "revoked": N_("Revoked"), "expired": N_("Expired"),
}
EVENT_LABELS = {
    "submitted": N_("Submitted"), "task.ready": N_("Ready for review"), "task.approve": N_("Step approved"),
    "task.return": N_("Returned for supplement"), "task.reject": N_("Rejected"), "task.cancelled": N_("Cancelled"),
    "task.supplemented": N_("Supplement sent"), "task.reassigned": N_("Reassigned"),
    "application.completed": N_("Completed"), "application.partly_completed": N_("Partly completed"),
    "application.rejected": N_("Rejected"), "application.withdrawn": N_("Withdrawn"),
    "draft.saved": N_("Draft saved"), "task.notice_completed": N_("Public notice ended; approval in effect"),
    "task.objection": N_("Objection received; back to review"),
    "task.deadline_warning": N_("Deadline near"), "task.overdue": N_("Overdue"),
    "task.due_recounted": N_("Due dates recounted on the year's published working-day schedule"),
}
# A submission filed by someone else says who filed it (details["filing"]).
FILING_LABELS = {"counter": N_("Filed at a service-hall counter"), "proxy": N_("Filed by an authorised proxy"),
                 "guardian": N_("Filed by a guardian")}
SAVINGS_LABELS = (("forms", N_("Forms")), ("fields", N_("Fields to fill in")), ("materials", N_("Materials")),
                  ("visits", N_("Visits")), ("days", N_("Working days")))
TAB_LABELS = (("ready", N_("Waiting")), ("mine", N_("Mine")), ("near_due", N_("Near due")),
              ("overdue", N_("Overdue")))
DECISIONS = (("approve", N_("Approve")), ("return", N_("Return for supplement")), ("reject", N_("Reject")))




def status_label(value: str | None) -> str:
    return gettext(STATUS_LABELS[value]) if value in STATUS_LABELS else (value or "—")


def event_label(value: str, details: dict[str, Any] | None = None) -> str:
    """A timeline event's kind in the reader's language (a filing by someone else named as such)."""
    filing = (details or {}).get("filing")
    label = FILING_LABELS.get(filing) if value == "submitted" and isinstance(filing, str) else None
    label = label or EVENT_LABELS.get(value)
    return gettext(label) if label else value


def _render(request: Request, template: str, context: dict[str, Any], **kw: Any) -> Response:
    return render(request, template, {**context, "status_label": status_label, "event_label": event_label}, **kw)


def _attempt(session: Session, action: Callable[[], T]) -> tuple[T | None, TongbanError | None]:
    """Run `action` in a savepoint: a refused form (Invalid, Conflict) writes nothing of itself."""
    try:
        with session.begin_nested():
            return action(), None
    except (Invalid, Conflict) as exc:
        return None, exc


def _see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def _error_field(exc: TongbanError | None) -> str | None:
    """The form field an error names (`data.child_name` → `child_name`)."""
    if exc is None or exc.field is None:
        return None
    return exc.field.removeprefix("data.")




# --- 我要办: the one-things ------------------------------------------------------------------------


def _items_view(session: Session, ot: OneThing) -> list[dict[str, Any]]:
    from tongban.core.identity.models import Department

    out = []
    for item in onething.items_of(session, ot):
        dept = session.get_one(Department, item.department_id)
        out.append({"id": item.id, "title": pick(item.definition["title"]),
                    "department": pick({"zh": dept.name_zh, "en": dept.name_en}),
                    "promised_days": item.definition["promised_days"]})
    return out


def _savings(ot: OneThing) -> list[dict[str, Any]]:
    return _savings_of(ot.savings)


def _savings_of(savings: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"label": label, **savings[key]} for key, label in SAVINGS_LABELS if key in savings]


@router.get("/portal/apply")
def onethings_page(request: Request, session: DbSession, principal: SignedIn) -> Response:
    """我要办: each one-thing, its items and what applying once saves."""
    access.require(principal, "self.apply")
    things = [{"id": ot.id, "title": pick(ot.definition["title"]), "description": pick(ot.definition["description"]),
               "items": _items_view(session, ot), "savings": _savings(ot)}
              for ot in onething.list_onethings(session)]
    return _render(request, "services/onethings.html", {"onethings": things})


def _onething_parts(session: Session, onething_id: str, chosen: list[str] | None = None,
                    ) -> tuple[OneThing, list[ServiceItem], dict[str, DataElement]]:
    """The one-thing, its `chosen` items (the default choice if None; `Invalid` on field
    `items` if the choice is not allowed) and their form's elements in the form's order."""
    ot = onething.get_onething(session, onething_id)
    picked, _ = onething.resolve_choice(ot.definition, chosen)
    items = onething.items_of(session, ot, picked)
    elements = onething.elements_of(session, items)
    order = list(onething.merged_schema(items, elements)["properties"])
    return ot, items, {el_id: elements[el_id] for el_id in order}


@router.get("/portal/apply/{onething_id}")
def consent_page(request: Request, session: DbSession, principal: SignedIn, onething_id: str) -> Response:
    """The one-click consent box, shown before the form: what will be read, from where."""
    access.require(principal, "self.apply")
    ot, items, elements = _onething_parts(session, onething_id)
    return _render(request, "services/consent.html", {
        "ot": ot, "form_base": _form_base(ot), "title": pick(ot.definition["title"]), "items": _items_view(session, ot),
        "savings": _savings(ot), "sources": portal.prefill_sources(session, elements)})


@router.post("/portal/apply/{onething_id}/consent")
def consent_submit(request: Request, session: DbSession, principal: SignedIn, onething_id: str) -> Response:
    access.require(principal, "self.apply")
    ot = onething.get_onething(session, onething_id)
    consent = prefill.give_consent(session, principal=principal, onething=ot)
    return _see_other(f"/portal/apply/{ot.id}/form?consent_id={consent.id}")


def _fields(session: Session, items: list[ServiceItem], elements: dict[str, DataElement],
            values: dict[str, Any], prefilled: dict[str, dict[str, Any]],
            errors: dict[str, str]) -> list[dict[str, Any]]:
    """The merged form's fields, in the schema's order, with values, sources and errors."""
    schema = onething.merged_schema(items, elements)
    sources = {s["element"]: s for s in portal.prefill_sources(session, elements)}
    out = []
    for el_id, prop in schema["properties"].items():
        el = elements[el_id].definition
        out.append({"id": el_id, "title": prop["title"], "element": el, "help": prop.get("description"),
                    "required": el_id in schema["required"], "value": values.get(el_id),
                    "source": sources.get(el_id) if el_id in prefilled else None,
                    "options": [(v, pick((el.get("enum_labels") or {}).get(v)) or v) for v in el.get("enum") or []],
                    "error": errors.get(el_id)})
    return out


def _form_value(element: dict[str, Any], raw: Any) -> Any:
    """A form's text as the element's type: integers and booleans; anything else as typed."""
    if not isinstance(raw, str):
        return None
    raw = raw.strip()
    if element["type"] == "integer" and raw.lstrip("-").isdigit():
        return int(raw)
    if element["type"] == "boolean" and raw in ("true", "false"):
        return raw == "true"
    return raw


def _form_data(form: FormData, elements: dict[str, DataElement]) -> dict[str, Any]:
    return {el_id: _form_value(el.definition, form.get(el_id)) for el_id, el in elements.items()
            if form.get(el_id) not in (None, "")}


def _consent_id(raw: Any) -> int | None:
    try:
        value = int(raw) if raw not in (None, "") else None
    except (TypeError, ValueError):
        raise NotFound(N_("No such consent"), field="consent_id") from None
    if value is not None and not valid_id(value):  # no row has it, and the driver cannot take it
        raise NotFound(N_("No such consent"), field="consent_id")
    return value


def _chosen(ot: OneThing, raw: list[str] | None) -> list[str] | None:
    """The items the form names: None (the default choice) for a one-thing without choices or a
    request without the parameter; else the names given — empty when the resident chose none
    ("None of these" sends an empty value), which the choice's check refuses."""
    if not onething.has_choices(ot.definition) or not raw:
        return None
    return [v for v in raw if v]


def _choice_view(session: Session, ot: OneThing, items: list[ServiceItem]) -> dict[str, Any] | None:
    """What the resident picks from on the form: each item, whether chosen, and its group."""
    if not onething.has_choices(ot.definition):
        return None
    chosen = {i.id for i in items}
    optional = set(ot.definition.get("optional", []))
    groups = {i: g for g, group in enumerate(ot.definition.get("choose_one", [])) for i in group}
    return {"items": [{**view, "chosen": view["id"] in chosen, "optional": view["id"] in optional,
                       "group": groups.get(view["id"])} for view in _items_view(session, ot)],
            "savings": _savings_of(onething.choice_savings(ot.definition, {i.id: i.definition for i in items},
                                                           sorted(chosen)))}


def _form_base(target: OneThing | ServiceItem) -> str:
    """Where a form's pages live: a one-thing's merged form, or a single item's (an offer's)."""
    return f"/portal/apply/{target.id}" if isinstance(target, OneThing) else f"/portal/items/{target.id}"


KIND_NAMES = {"pdf": "PDF", "jpg": "JPEG", "png": "PNG"}
ACCEPT = {"pdf": ".pdf,application/pdf", "jpg": ".jpg,.jpeg,image/jpeg", "png": ".png,image/png"}


def _material_fields(session: Session, principal: access.Principal, items: list[ServiceItem],
                     errors: dict[str, str], *, wallet: bool) -> list[dict[str, Any]]:
    """The materials the form still asks: an upload field each, and the wallet's certificates of
    the accepted type offered in place of an upload (`wallet`: only when filing for oneself)."""
    asked = materials.asked(items)
    offers = materials.wallet_offers(session, principal=principal, asked_=asked) if wallet else {}
    return [{"id": mid, "key": f"materials.{mid}", "dom": "materials-" + mid.replace(".", "-"),
             "title": d["title_text"], "required": d["required"],
             "types": [KIND_NAMES[t] for t in d["types"]], "accept": ",".join(ACCEPT[t] for t in d["types"]),
             "max_kb": d["max_kb"], "offers": offers.get(mid, []), "error": errors.get(f"materials.{mid}")}
            for mid, d in asked.items()]


def _attacher(request: Request, session: Session, principal: access.Principal, form: FormData,
              items: list[ServiceItem]) -> Callable[[Application], None] | None:
    """What the form sends for its materials (a file, or a wallet certificate in its place),
    attached by the API's own checks once the application exists; a refusal names the material
    (field `materials.<id>`). None when nothing was sent."""
    picks: list[tuple[str, str | UploadFile]] = []
    for mid in materials.asked(items):
        cert, upload = form.get(f"certificate.{mid}"), form.get(f"material.{mid}")
        if isinstance(cert, str) and cert:
            picks.append((mid, cert))
        elif isinstance(upload, UploadFile) and upload.filename:
            picks.append((mid, upload))
    if not picks:
        return None
    storage = storage_for(request.app.state.settings)

    def attach(app: Application) -> None:
        for mid, what in picks:
            try:
                if isinstance(what, str):
                    if not what.isdigit() or not valid_id(int(what)):
                        raise Invalid(N_("Choose a certificate from the list"), field="certificate_id")
                    materials.attach_certificate(session, principal=principal, application_id=app.id,
                                                 material_id=mid, certificate_id=int(what))
                else:
                    what.file.seek(0)
                    materials.attach_upload(session, storage=storage, principal=principal, application_id=app.id,
                                            material_id=mid, filename=what.filename,
                                            data=what.file.read(materials.MAX_BYTES + 1))
            except (Invalid, Conflict) as exc:
                exc.field = f"materials.{mid}"
                raise
    return attach


def _render_form(request: Request, session: DbSession, principal: access.Principal, ot: OneThing | ServiceItem,
                 items: list[ServiceItem], elements: dict[str, DataElement], *, consent_id: Id | None,
                 values: dict[str, Any] | None = None, prefilled: dict[str, dict[str, Any]] | None = None,
                 errors: dict[str, str] | None = None, key: str | None = None, status_code: int = 200,
                 filing: dict[str, Any] | None = None) -> Response:
    """The form; `filing` when it is filed for someone else: {"kind": "proxy", "person_id",
    "name"} or {"kind": "counter", "name", "id_number", "method", "note", "target"}."""
    errors = errors or {}
    fields = _fields(session, items, elements, values or {}, prefilled or {}, errors)
    mats = _material_fields(session, principal, items, errors, wallet=filing is None)
    counter = filing is not None and filing["kind"] == "counter"
    return _render(request, "services/form.html", {
        "ot": ot, "form_base": _form_base(ot), "title": pick(ot.definition["title"]), "fields": fields,
        "consent_id": consent_id, "materials": mats, "filing": filing, "form_checks": not counter,
        "action": "/workbench/counter/form" if counter else f"{_form_base(ot)}/form",
        "idempotency_key": key or secrets.token_urlsafe(24), "errors": errors,
        "titles": {**{f["id"]: f["title"] for f in fields}, **{m["key"]: m["title"] for m in mats}},
        "anchors": {m["key"]: m["dom"] for m in mats},
        "prefilled": bool(prefilled),
        "choice": _choice_view(session, ot, items) if isinstance(ot, OneThing) and not counter else None},
        status_code=status_code)


def _on_behalf(session: Session, principal: access.Principal, raw: Any, scope: str) -> dict[str, Any] | None:
    """找人帮我办: the person a relative files for (a live authorisation or a guardianship, checked
    as a submission checks it; 403 otherwise), with their masked name; None for oneself."""
    if raw in (None, ""):
        return None
    try:
        person_id = int(str(raw))
    except ValueError:
        raise Invalid(N_("You are not authorised to apply for this person"), field="on_behalf_of") from None
    if not valid_id(person_id):
        raise Invalid(N_("You are not authorised to apply for this person"), field="on_behalf_of")
    filer = proxies.filer_for(session, principal=principal, on_behalf_of=person_id, counter=None, scopes=[scope])
    if filer.kind == "self":
        return None
    return {"kind": filer.kind, "person_id": filer.person.id, "name": masking.name(filer.person.name)}


@router.get("/portal/apply/{onething_id}/form")
def form_page(request: Request, session: DbSession, principal: SignedIn, onething_id: str,
              consent_id: str | None = None, items_: list[str] | None = Query(None, alias="items"),
              on_behalf_of: str | None = None) -> Response:
    """The merged form of the chosen items: prefilled (with a consent) and marked with each
    value's source. A one-thing with optional items shows the choice first (`?items=…`).
    `on_behalf_of`: a relative files for the person who authorised them (no prefill)."""
    access.require(principal, "self.apply")
    filing = _on_behalf(session, principal, on_behalf_of, onething_id)
    errors: dict[str, str] = {}
    try:
        ot, items, elements = _onething_parts(session, onething_id,
                                              _chosen(onething.get_onething(session, onething_id), items_))
    except Invalid as exc:  # a choice that is not allowed: the default one, and why
        errors["items"] = exc.translated()
        ot, items, elements = _onething_parts(session, onething_id)
    cid = _consent_id(consent_id) if filing is None else None
    consent = prefill.live_consent(session, principal=principal, consent_id=cid, onething_id=ot.id) if cid else None
    prefilled = prefill.prefill(session, principal=principal, consent=consent, elements=elements)
    values = {k: v["value"] for k, v in prefilled.items()}
    return _render_form(request, session, principal, ot, items, elements, consent_id=cid, values=values,
                        prefilled=prefilled, errors=errors, status_code=422 if errors else 200, filing=filing)


def _error_key(exc: TongbanError, elements: dict[str, DataElement]) -> str:
    """Where a refusal is shown on the form: its field, a material, the item choice, or the top."""
    field = _error_field(exc)
    if field is not None and (field in elements or field == "items" or field.startswith("materials.")):
        return field
    return "_form"


def _field_errors(items: list[ServiceItem], elements: dict[str, DataElement], data: dict[str, Any]) -> dict[str, str]:
    errors = {}
    for el_id in onething.merged_schema(items, elements)["properties"]:
        try:
            portal.validate_field(items, elements, el_id, data.get(el_id))
        except Invalid as exc:
            errors[el_id] = exc.translated()
    return errors


@router.post("/portal/apply/{onething_id}/check")
def form_check(request: Request, session: DbSession, principal: SignedIn, form: PostedForm, onething_id: str,
               field: str) -> Response:
    """htmx: one field checked as a submission would check it; the field comes back with its message."""
    access.require(principal, "self.apply")
    ot = onething.get_onething(session, onething_id)
    ot, items, elements = _onething_parts(session, onething_id, _chosen(ot, [str(v) for v in form.getlist("items")]))
    if field not in elements:
        raise NotFound(N_("This form has no such field"), field="field")
    value = _form_value(elements[field].definition, form.get(field))
    errors: dict[str, str] = {}
    try:
        portal.validate_field(items, elements, field, value)
    except Invalid as exc:
        errors[field] = exc.translated()
    sources = {s["element"]: s for s in portal.prefill_sources(session, elements)}
    source_marked = form.get(f"source.{field}") == "1"
    f = next(x for x in _fields(session, items, elements, {field: form.get(field)}, {}, errors) if x["id"] == field)
    f["source"] = sources.get(field) if source_marked else None
    return _render(request, "services/_field.html", {"f": f, "ot": ot, "form_base": _form_base(ot)},
                   status_code=422 if errors else 200)


@router.post("/portal/apply/{onething_id}/form")
def form_submit(request: Request, session: DbSession, principal: SignedIn, form: PostedForm,
                onething_id: str) -> Response:
    """一次提交: submit once with the form's idempotency key; a refusal shows the form again, input kept."""
    access.require(principal, "self.apply")
    ot = onething.get_onething(session, onething_id)
    filing = _on_behalf(session, principal, form.get("on_behalf_of"), ot.id)
    chosen = _chosen(ot, [str(v) for v in form.getlist("items")])
    try:
        ot, items, elements = _onething_parts(session, onething_id, chosen)
    except Invalid as refused:
        ot, items, elements = _onething_parts(session, onething_id)
        return _render_form(request, session, principal, ot, items, elements,
                            consent_id=_consent_id(form.get("consent_id")), values=_form_data(form, elements),
                            errors={"items": refused.translated()}, status_code=422, filing=filing)
    data = _form_data(form, elements)
    cid = _consent_id(form.get("consent_id"))
    key = str(form.get("idempotency_key") or "")
    raw = {k: form.get(k) for k in elements}
    prefilled: dict[str, dict[str, Any]] = {k: {} for k in elements if form.get(f"source.{k}") == "1"}
    errors = _field_errors(items, elements, data)
    if not errors:
        result, exc = _attempt(session, lambda: applications.submit(
            session, principal=principal, idempotency_key=key, onething_id=ot.id, data=data, consent_id=cid,
            items=chosen, on_behalf_of=filing["person_id"] if filing else None,
            attach=_attacher(request, session, principal, form, items)))
        if exc is None and result is not None:
            return _see_other(f"/portal/applications/{result[0].id}?submitted=1")
        assert exc is not None
        errors = {_error_key(exc, elements): exc.translated()}
    return _render_form(request, session, principal, ot, items, elements, consent_id=cid, values=raw,
                        prefilled=prefilled, errors=errors, key=key or None, status_code=422, filing=filing)


# --- a single item's form (what an offer of one item opens) -------------------------------------


def _item_parts(session: Session, item_id: str) -> tuple[ServiceItem, list[ServiceItem], dict[str, DataElement]]:
    item = published_item(session, item_id)
    elements = onething.elements_of(session, [item])
    order = list(onething.merged_schema([item], elements)["properties"])
    return item, [item], {el_id: elements[el_id] for el_id in order}


@router.get("/portal/items/{item_id}")
def item_consent_page(request: Request, session: DbSession, principal: SignedIn, item_id: str) -> Response:
    """A single item's consent box before its form, as a one-thing's: what will be read, from where."""
    access.require(principal, "self.apply")
    item, _items, elements = _item_parts(session, item_id)
    return _render(request, "services/consent.html", {
        "ot": item, "form_base": _form_base(item), "title": pick(item.definition["title"]),
        "items": _item_view(session, item), "savings": [], "sources": portal.prefill_sources(session, elements)})


@router.post("/portal/items/{item_id}/consent")
def item_consent_submit(request: Request, session: DbSession, principal: SignedIn, item_id: str) -> Response:
    access.require(principal, "self.apply")
    item, _items, _elements = _item_parts(session, item_id)
    consent = prefill.give_consent(session, principal=principal, onething=item)
    return _see_other(f"/portal/items/{item.id}/form?consent_id={consent.id}")


def _item_view(session: Session, item: ServiceItem) -> list[dict[str, Any]]:
    dept = current_catalogue(session).departments.get(item.department_id)
    return [{"id": item.id, "title": pick(item.definition["title"]),
             "department": pick({"zh": dept.name_zh, "en": dept.name_en}) if dept else item.department_id,
             "promised_days": item.definition["promised_days"]}]


@router.get("/portal/items/{item_id}/form")
def item_form_page(request: Request, session: DbSession, principal: SignedIn, item_id: str,
                   consent_id: str | None = None, on_behalf_of: str | None = None) -> Response:
    """A single item's form, labelled and checked as a one-thing's; prefilled with a consent;
    `on_behalf_of` as for a one-thing's form."""
    access.require(principal, "self.apply")
    item, items, elements = _item_parts(session, item_id)
    filing = _on_behalf(session, principal, on_behalf_of, item.id)
    cid = _consent_id(consent_id) if filing is None else None
    consent = prefill.live_consent(session, principal=principal, consent_id=cid, onething_id=item.id) if cid else None
    prefilled = prefill.prefill(session, principal=principal, consent=consent, elements=elements)
    return _render_form(request, session, principal, item, items, elements, consent_id=cid,
                        values={k: v["value"] for k, v in prefilled.items()}, prefilled=prefilled, filing=filing)


@router.post("/portal/items/{item_id}/check")
def item_form_check(request: Request, session: DbSession, principal: SignedIn, form: PostedForm, item_id: str,
                    field: str) -> Response:
    """htmx: one field of a single item's form checked as a submission would check it."""
    access.require(principal, "self.apply")
    item, items, elements = _item_parts(session, item_id)
    if field not in elements:
        raise NotFound(N_("This form has no such field"), field="field")
    errors: dict[str, str] = {}
    try:
        portal.validate_field(items, elements, field, _form_value(elements[field].definition, form.get(field)))
    except Invalid as exc:
        errors[field] = exc.translated()
    sources = {s["element"]: s for s in portal.prefill_sources(session, elements)}
    f = next(x for x in _fields(session, items, elements, {field: form.get(field)}, {}, errors) if x["id"] == field)
    f["source"] = sources.get(field) if form.get(f"source.{field}") == "1" else None
    return _render(request, "services/_field.html", {"f": f, "ot": item, "form_base": _form_base(item)},
                   status_code=422 if errors else 200)


@router.post("/portal/items/{item_id}/form")
def item_form_submit(request: Request, session: DbSession, principal: SignedIn, form: PostedForm,
                     item_id: str) -> Response:
    """Submit a single item once; a refusal shows the form again with each field's message."""
    access.require(principal, "self.apply")
    item, items, elements = _item_parts(session, item_id)
    filing = _on_behalf(session, principal, form.get("on_behalf_of"), item.id)
    data = _form_data(form, elements)
    cid = _consent_id(form.get("consent_id"))
    key = str(form.get("idempotency_key") or "")
    prefilled: dict[str, dict[str, Any]] = {k: {} for k in elements if form.get(f"source.{k}") == "1"}
    errors = _field_errors(items, elements, data)
    if not errors:
        result, exc = _attempt(session, lambda: applications.submit(
            session, principal=principal, idempotency_key=key, item_id=item.id, data=data, consent_id=cid,
            on_behalf_of=filing["person_id"] if filing else None,
            attach=_attacher(request, session, principal, form, items)))
        if exc is None and result is not None:
            return _see_other(f"/portal/applications/{result[0].id}?submitted=1")
        assert exc is not None
        errors = {_error_key(exc, elements): exc.translated()}
    return _render_form(request, session, principal, item, items, elements, consent_id=cid,
                        values={k: form.get(k) for k in elements}, prefilled=prefilled, errors=errors,
                        key=key or None, status_code=422, filing=filing)


# --- 我要查: applications ------------------------------------------------------------------------


@router.get("/portal/applications")
def applications_page(request: Request, session: DbSession, principal: SignedIn) -> Response:
    rows = portal.my_applications(session, principal=principal)
    titles = {a.id: _application_title(session, a) for a in rows}
    return _render(request, "services/applications.html", {"applications": rows, "titles": titles})


def _application_title(session: Session, app: Application) -> str:
    """What was applied for: the one-thing's title, or the single item's."""
    if app.onething_id:
        return pick(onething.get_onething(session, app.onething_id).definition["title"])
    return pick(onething.get_item(session, str(app.item_id)).definition["title"])


def _application_page(request: Request, session: Session, principal: access.Principal, application_id: Id, *,
                      errors: dict[int, TongbanError] | None = None, values: dict[str, Any] | None = None,
                      status_code: int = 200, submitted: bool = False) -> Response:
    access.require(principal, "self.read")
    app = applications.get_application(session, principal=principal, application_id=application_id,
                                       parties_only=True)
    tasks, general = portal.progress(session, app)
    title = _application_title(session, app)
    rows = materials.list_materials(session, principal=principal, application_id=app.id)
    return _render(request, "services/application.html", {
        "app": app, "title": title, "tasks": tasks, "general": general, "errors": errors or {},
        "materials": materials.rows_view(session, app, rows), "filers": portal.filer_notes(session, general),
        "messages": {k: v.translated() for k, v in (errors or {}).items()}, "error_fields": {
            k: _error_field(v) for k, v in (errors or {}).items()},
        "values": values or {}, "open": app.status in applications.OPEN_APPLICATION,
        "submitted": submitted and app.submitted_at is not None}, status_code=status_code)


@router.get("/portal/applications/{application_id}")
def application_page(request: Request, session: DbSession, principal: SignedIn, application_id: Id,
                     submitted: bool = False) -> Response:
    """The application's progress, department by department, with 补正 and withdrawal; right after
    submitting (`submitted`), the 提交成功 receipt with its number."""
    return _application_page(request, session, principal, application_id, submitted=submitted)


def _material_download(row: Any, data: bytes) -> Response:
    ext = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}.get(row.media_type or "", "bin")
    return Response(data, media_type=row.media_type or "application/octet-stream", headers={
        "Content-Disposition": f'attachment; filename="material-{row.id}.{ext}"',
        "X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"})


@router.get("/portal/applications/{application_id}/materials/{material_row_id}")
def application_material(request: Request, session: DbSession, principal: SignedIn, application_id: Id,
                         material_row_id: Id) -> Response:
    """A material of one's application, downloaded (the applicant, or who filed it)."""
    access.require(principal, "self.read")
    applications.get_application(session, principal=principal, application_id=application_id, parties_only=True)
    row, data = materials.open_material(session, storage=storage_for(request.app.state.settings),
                                        principal=principal, application_id=application_id,
                                        material_row_id=material_row_id)
    return _material_download(row, data)


@router.post("/portal/applications/{application_id}/tasks/{task_id}/supplement")
def supplement_submit(request: Request, session: DbSession, principal: SignedIn, form: PostedForm,
                      application_id: Id,
                            task_id: Id) -> Response:
    """补正: answer a returned task with the fields it asks again."""
    access.require(principal, "self.apply")
    app = applications.get_application(session, principal=principal, application_id=application_id,
                                       parties_only=True)
    task = next((t for t in applications.tasks_of(session, app.id) if t.id == task_id), None)
    if task is None:
        raise NotFound(N_("No such task"))
    item = onething.get_item(session, task.item_id)
    elements = onething.elements_of(session, [item])
    data = _form_data(form, elements)
    _, exc = _attempt(session, lambda: applications.supplement(
        session, principal=principal, application_id=app.id, task_id=task_id, data=data))
    if exc is None:
        return _see_other(f"/portal/applications/{app.id}")
    return _application_page(request, session, principal, application_id, errors={task_id: exc},
                             values={k: form.get(k) for k in elements}, status_code=exc.status)


@router.get("/portal/applications/{application_id}/withdraw")
def withdraw_confirm(request: Request, session: DbSession, principal: SignedIn, application_id: Id) -> Response:
    """Withdrawing is asked once more, on its own page, before it happens."""
    access.require(principal, "self.apply")
    app = applications.get_application(session, principal=principal, application_id=application_id,
                                       parties_only=True)
    return _render(request, "services/withdraw.html", {"app": app})


@router.post("/portal/applications/{application_id}/withdraw")
def withdraw_submit(request: Request, session: DbSession, principal: SignedIn, application_id: Id) -> Response:
    _, exc = _attempt(session, lambda: applications.withdraw(session, principal=principal,
                                                             application_id=application_id))
    if exc is not None:
        return _application_page(request, session, principal, application_id, errors={0: exc},
                                 status_code=exc.status)
    return _see_other(f"/portal/applications/{application_id}")


# --- the wallet -------------------------------------------------------------------------


@router.get("/portal/wallet")
def wallet_page(request: Request, session: DbSession, principal: SignedIn, cursor: str | None = None) -> Response:
    """你的数字证件: certificate cards, yours and your wards', newest first, a page at a time."""
    access.require(principal, "self.read")
    try:
        wallet, next_cursor = registry.my_wallet(session, principal=principal, cursor=cursor)
    except NotFound:
        wallet, next_cursor = [], None
    links = {}
    for c in wallet:
        cert = registry_reads.certificate(session, c["id"])
        if cert is not None:
            links[c["id"]] = certificates.verify_path(cert)
    return _render(request, "services/wallet.html", {"wallet": wallet, "verify_links": links,
                                                     "next_cursor": next_cursor})


@router.get("/portal/wallet/{certificate_id}/qr.svg")
def wallet_qr(request: Request, session: DbSession, principal: SignedIn, certificate_id: Id) -> Response:
    """A wallet card's QR code: the certificate's public verify link (the holder's or a guardian's)."""
    from tongban.services.api import certificate_qr

    return certificate_qr(certificate_id, request, session, principal)


# --- workbench: the queue -----------------------------------------------------------------------


@router.get("/workbench/tasks")
def queue_page(request: Request, session: DbSession, principal: SignedIn, tab: str = "ready",
               cursor: str | None = None) -> Response:
    """The department's queue in tabs, with counts (of the whole queue), a page at a time."""
    rows, counts, next_cursor = workbench.queue(session, principal=principal, tab=tab, today=clock.today(),
                                                cursor=cursor)
    return _render(request, "services/queue.html", {"rows": rows, "counts": counts, "tab": tab,
                                                    "tabs": TAB_LABELS, "next_cursor": next_cursor})


EXPORT_COLUMNS = (N_("Task"), N_("Application"), N_("Item"), N_("Step"), N_("Applicant"), N_("Status"),
                  N_("Due date"), N_("Assigned to"))


@router.get("/workbench/tasks/export.xlsx")
def queue_export(request: Request, session: DbSession, principal: SignedIn, tab: str = "ready") -> Response:
    """The queue tab as an Excel sheet: exactly what the page shows (applicants masked)."""
    from openpyxl import Workbook

    rows: list[workbench.QueueRow] = []
    cursor: str | None = None
    while True:  # the whole tab, a page at a time
        page, _counts, cursor = workbench.queue(session, principal=principal, tab=tab, today=clock.today(),
                                                cursor=cursor, limit=200)
        rows += page
        if cursor is None:
            break
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = gettext(dict(TAB_LABELS)[tab])
    sheet.append([gettext(c) for c in EXPORT_COLUMNS])
    for r in rows:
        sheet.append([r.task.id, r.application.id, r.item_title, r.step_title, r.applicant or "",
                      status_label(r.task.status), r.task.due_date.isoformat() if r.task.due_date else "",
                      r.assignee or ""])
    out = io.BytesIO()
    book.save(out)
    return Response(out.getvalue(), headers={"Content-Disposition": f'attachment; filename="queue-{tab}.xlsx"',
                                             "Cache-Control": "no-store"},
                    media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


# --- workbench: one task ------------------------------------------------------------------------


def _decision_fields(session: Session, item: dict[str, Any]) -> list[dict[str, Any]]:
    """What the officer may add to the outputs when approving: data elements, by their names."""
    out = []
    for el_id in item["outputs"].get("decision_fields", []):
        el = session.get(DataElement, el_id)
        out.append({"id": el_id, "title": pick(el.definition["name"]) if el else el_id,
                    "numeric": bool(el and el.definition["type"] == "integer")})
    return out


def _task_page(request: Request, session: Session, principal: access.Principal, task_id: Id, *,
               unmask: str | None = None, purpose: str | None = None, error: TongbanError | None = None,
               form: dict[str, Any] | None = None, status_code: int = 200) -> Response:
    task, app = workbench.get_task(session, principal=principal, task_id=task_id)
    fields = workbench.task_fields(session, principal=principal, task=task, app=app, unmask=unmask, purpose=purpose)
    item = onething.get_item(session, task.item_id).definition
    steps = [{"title": pick(s["title"]), "current": i == task.step_index and task.status in applications.DECIDABLE,
              "done": i < task.step_index or task.status == "approved"} for i, s in enumerate(item["steps"])]
    officers = (workbench.officers(session, principal=principal, department_id=task.department_id)
                if principal.has("task.reassign") else [])
    rows = materials.list_materials(session, principal=principal, application_id=app.id)  # audited: material.read
    separate = item["steps"][task.step_index].get("separate_from")
    deciders = applications.step_deciders(session, task) if separate else {}
    submitted_events = [e for e in applications.timeline(session, app.id) if e.kind == "submitted"]
    return _render(request, "services/task.html", {
        "task": task, "app": app, "item_title": pick(item["title"]), "fields": fields, "steps": steps,
        "decidable": task.status in applications.DECIDABLE and principal.has("task.decide"),
        "can_reassign": principal.has("task.reassign") and task.status in applications.DECIDABLE,
        "officers": officers, "decision_fields": _decision_fields(session, item),
        "decisions": DECISIONS, "history": workbench.task_history(session, task), "unmasked": unmask,
        "purpose": purpose, "error": error, "error_message": error.translated() if error else None,
        "error_field": _error_field(error), "form": form or {},
        "estimated_years": sla.estimated_years(task, workdays.calendar(session)),
        "materials": materials.rows_view(session, app, rows), "submitted_events": submitted_events,
        "filers": portal.filer_notes(session, submitted_events),
        "separated": bool(separate and deciders.get(separate) == principal.actor
                          and task.status in applications.DECIDABLE)},
        status_code=status_code)


@router.get("/workbench/tasks/{task_id}/materials/{material_row_id}")
def task_material(request: Request, session: DbSession, principal: SignedIn, task_id: Id,
                  material_row_id: Id) -> Response:
    """Open a material of the task's application (each view audited as `material.read`)."""
    _task, app = workbench.get_task(session, principal=principal, task_id=task_id)
    row, data = materials.open_material(session, storage=storage_for(request.app.state.settings),
                                        principal=principal, application_id=app.id, material_row_id=material_row_id)
    return _material_download(row, data)


@router.get("/workbench/tasks/{task_id}")
def task_page(request: Request, session: DbSession, principal: SignedIn, task_id: Id) -> Response:
    """The task: the application's data (masked), the review steps, decide, reassign, history."""
    return _task_page(request, session, principal, task_id)


@router.post("/workbench/tasks/{task_id}/unmask")
def task_unmask(request: Request, session: DbSession, principal: SignedIn, form: PostedForm, task_id: Id) -> Response:
    """One field in clear, for a purpose recorded in the audit chain."""
    field, purpose = str(form.get("field") or ""), str(form.get("purpose") or "")
    workbench.get_task(session, principal=principal, task_id=task_id)
    try:
        with session.begin_nested():
            return _task_page(request, session, principal, task_id, unmask=field, purpose=purpose)
    except Invalid as exc:
        return _task_page(request, session, principal, task_id, error=exc, form={"purpose": purpose},
                          status_code=422)


@router.post("/workbench/tasks/{task_id}/decision")
def task_decide(request: Request, session: DbSession, principal: SignedIn, form: PostedForm, task_id: Id) -> Response:
    """Approve / return / reject on the version read; a stale version is explained, not a crash."""
    task, _app = workbench.get_task(session, principal=principal, task_id=task_id)
    item = onething.get_item(session, task.item_id).definition
    outputs: dict[str, Any] = {}
    for k in item["outputs"].get("decision_fields", []):
        typed = str(form.get(f"outputs.{k}") or "").strip()
        if typed:  # as the element's type (an amount is a whole number), as the API takes it
            element = session.get(DataElement, k)
            outputs[k] = _form_value(element.definition, typed) if element is not None else typed
    decision = str(form.get("decision") or "")
    reason = str(form.get("reason") or "")
    try:
        version: int | None = int(str(form.get("version")))
    except ValueError:
        version = None
    keyring = keyring_for(request.app.state.settings)
    _, exc = _attempt(session, lambda: applications.decide(
        session, principal=principal, task_id=task_id, decision=decision,  # type: ignore[arg-type]
        version=version, reason=reason, outputs=outputs, keyring=keyring))
    if exc is None:
        return _see_other(f"/workbench/tasks/{task_id}")
    session.expire_all()
    return _task_page(request, session, principal, task_id, error=exc,
                      form={"decision": decision, "reason": reason, **{f"outputs.{k}": v for k, v in outputs.items()}},
                      status_code=exc.status)


@router.post("/workbench/tasks/{task_id}/reassign")
def task_reassign(request: Request, session: DbSession, principal: SignedIn, form: PostedForm,
                  task_id: Id) -> Response:
    """分派: the department's administrator gives the task to another officer."""
    try:
        to_id, version = int(str(form.get("assignee"))), int(str(form.get("version")))
    except ValueError:
        exc: TongbanError | None = Invalid(N_("Choose an officer of this department"), field="assignee")
    else:
        _, exc = _attempt(session, lambda: workbench.reassign(session, principal=principal, task_id=task_id,
                                                              to_account_id=to_id, version=version))
    if exc is None:
        return _see_other(f"/workbench/tasks/{task_id}")
    session.expire_all()
    return _task_page(request, session, principal, task_id, error=exc, status_code=exc.status)


# --- workbench: the dashboard -------------------------------------------------------------------


@router.get("/workbench/dashboard")
def dashboard_page(request: Request, session: DbSession, principal: SignedIn) -> Response:
    """The department's figures, with a chart drawn by ECharts from the page's own data."""
    figures = workbench.dashboard(session, principal=principal, today=clock.today())
    statuses = [s for s in workbench.STATUSES if figures["by_status"][s]]
    chart = {"labels": [status_label(s) for s in statuses], "values": [figures["by_status"][s] for s in statuses],
             "title": gettext(N_("Tasks by status"))}
    return _render(request, "services/dashboard.html", {"figures": figures, "chart": chart,
                                                        "statuses": workbench.STATUSES})
