"""Pack sections of the services layer: data elements (数据元), certificate types (电子证照),
service items (事项, one file each under `items/`) and one-things (一件事, under `onethings/`).

References are checked by the loader (`Defines` / `RefersTo`); the checks here add what a
reference alone cannot say: an item using an element with another type, promised days over
the statutory limit, a dependency outside the one-thing or a cycle among them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any, Literal

from pydantic import Field
from sqlalchemy.orm import Session

from tongban.core.packs.loader import Changes, Pack, PackFile, Problem, register_section
from tongban.core.packs.models import Defines, PackModel, RefersTo, SectionFile, StableId, Text
from tongban.core.workdays import on_schedule_loaded
from tongban.services.domains import DomainId, LifeEventId

ElementType = Literal["string", "date", "enum", "integer", "boolean"]
# The character rule of a string element (tongban.core.text): `person_name` for names; any other
# string element is free text. `resident_id` and `phone` are checked by their own formats.
ElementFormat = Literal["resident_id", "phone", "person_name"]
ElementId = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")]


# --- elements.yaml ---------------------------------------------------------------------------


class Prefill(PackModel):
    """Where a registry value for this element comes from, and whose record it is."""

    dataset: Annotated[str, RefersTo("dataset")]
    field: str
    of: Literal["applicant", "mother", "father", "household"] = "applicant"


class Element(PackModel):
    id: Annotated[ElementId, Defines("element")]
    name: Text
    type: ElementType
    format: ElementFormat | None = None
    enum: list[str] | None = None
    enum_labels: dict[str, Text] | None = None
    max_length: int | None = Field(None, ge=1, le=2000)
    help: Text | None = None
    prefill: Prefill | None = None


class ElementsFile(SectionFile):
    elements: list[Element]


def check_elements(pf: PackFile, pack: Pack) -> Iterator[Problem]:
    model: ElementsFile = pf.model
    for i, e in enumerate(model.elements):
        if (e.type == "enum") != bool(e.enum):
            yield pf.problem(("elements", i, "enum"), "an enum element lists its values in `enum`, others have none")
        if e.format is not None and e.type != "string":
            yield pf.problem(("elements", i, "format"), "a format applies to string elements only")


# --- certificates.yaml -------------------------------------------------------------------------


class CertificateTypeDecl(PackModel):
    id: Annotated[StableId, Defines("certificate_type")]
    title: Text
    issuer: Annotated[str, RefersTo("department")]
    issuer_code: Annotated[str, Field(pattern=r"^[0-9A-HJ-NPQRTUWXY]{18}$")] | None = None
    number_prefix: Annotated[str, Field(pattern=r"^[A-Z0-9]{1,8}$")]
    valid_years: int | None = Field(None, ge=1, le=100)
    fields: Annotated[list[str], RefersTo("element")] = []


class CertificatesFile(SectionFile):
    certificate_types: list[CertificateTypeDecl]


# --- items/*.yaml ------------------------------------------------------------------------------


class FormField(PackModel):
    element: Annotated[str, RefersTo("element")]
    required: bool = True
    type: ElementType | None = None  # if given, must be the element's type
    label: Text | None = None
    help: Text | None = None
    widget: str | None = None
    # a date field: how many days back a plausible date may lie on this item's form (a newborn's
    # birth: 366); any date is on or after applications.EARLIEST_DATE and not in the future
    max_age_days: int | None = Field(None, ge=1, le=60000)


class Material(PackModel):
    id: StableId
    title: Text
    types: list[Literal["pdf", "jpg", "png"]] = ["pdf", "jpg", "png"]
    max_kb: int = Field(5120, ge=1, le=51200)
    certificate: Annotated[str | None, RefersTo("certificate_type")] = None  # accepted in place of an upload
    required: bool = True


class Step(PackModel):
    id: StableId
    title: Text
    role: Annotated[str, RefersTo("role")]
    level: Literal["community", "street", "county", "city"] = "county"
    # 审批分离: the id of an earlier step of the item whose deciding officer may not decide this one
    separate_from: StableId | None = None


class Outputs(PackModel):
    certificate: Annotated[str | None, RefersTo("certificate_type")] = None
    holder: Literal["applicant", "newborn"] = "applicant"
    effect: Literal["none", "register_birth", "enrol"] = "none"
    benefit_code: StableId | None = None
    decision_fields: list[ElementId] = []  # what the officer may add to the outputs when approving


class ItemDecl(PackModel):
    id: Annotated[StableId, Defines("item")]
    code: Annotated[str, Field(pattern=r"^[0-9A-Za-z-]{4,64}$")]
    title: Text
    guide: Text
    department: Annotated[str, RefersTo("department")]
    legal_basis: str = Field(min_length=2)
    kind: Literal["instant", "promise"]  # 即办件 | 承诺件
    statutory_days: int = Field(ge=0, le=365)
    promised_days: int = Field(ge=0, le=365)
    visits: int = Field(1, ge=0, le=10)  # on-site visits when applied for alone
    form: list[FormField] = Field(min_length=1)
    materials: list[Material] = []
    steps: list[Step] = Field(min_length=1)
    notice_days: int | None = Field(None, ge=1, le=60)  # 公示 period, after the last review step
    notice_day_kind: Literal["calendar", "working"] = "calendar"  # 公示期 in calendar days unless said
    outputs: Outputs = Outputs()
    domain: DomainId  # one of the twelve (婴育 … 家政)
    life_events: list[LifeEventId] = []
    # The guide (办事指南) beyond the title and `guide`: who may apply (申请对象), the fee (收费标准),
    # where and when to go when no place of the pack lists the item (办理地点, 办理时间), and the
    # halls (places) that accept it. Optional: the guide page says "ask the department" without them.
    applicants: Text | None = None
    fee: Text | None = None
    where: Text | None = None
    hours: Text | None = None
    halls: Annotated[list[str], RefersTo("place")] = []
    published: bool = True  # false: loaded but not offered (未上线): hidden from the catalogue and the portal


GUIDE_TEXT_MAX = 500  # characters of each language of a guide text (applicants, fee, where, hours)


class ItemFile(SectionFile):
    item: ItemDecl


def check_item(pf: PackFile, pack: Pack) -> Iterator[Problem]:
    item: ItemDecl = pf.model.item
    if item.promised_days > item.statutory_days:
        yield pf.problem(("item", "promised_days"), "promised days exceed the statutory limit (承诺时限 ≤ 法定时限)")
    if item.kind == "instant" and item.promised_days != 0:
        yield pf.problem(("item", "promised_days"), "an instant item (即办件) is promised the same day (0)")
    seen: set[str] = set()
    for j, f in enumerate(item.form):
        if f.element in seen:
            yield pf.problem(("item", "form", j, "element"), f"element {f.element!r} appears twice in the form")
        seen.add(f.element)
        element: Element | None = pack.get("element", f.element)
        if element is not None and f.type is not None and f.type != element.type:
            yield pf.problem(("item", "form", j, "type"),
                             f"element {f.element!r} is a {element.type} in elements.yaml, not a {f.type}")
    mids = [m.id for m in item.materials]
    for j, m in enumerate(item.materials):
        if mids.count(m.id) > 1:
            yield pf.problem(("item", "materials", j, "id"), f"material {m.id!r} is listed twice")
    for name in ("applicants", "fee", "where", "hours"):
        text: Text | None = getattr(item, name)
        if text is not None and max(len(text.zh), len(text.en)) > GUIDE_TEXT_MAX:
            yield pf.problem(("item", name), f"a guide text is at most {GUIDE_TEXT_MAX} characters in each language")
    for j, hall in enumerate(item.halls):
        if item.halls.count(hall) > 1:
            yield pf.problem(("item", "halls", j), f"hall {hall!r} is listed twice")
    step_ids = [st.id for st in item.steps]
    for j, st in enumerate(item.steps):
        if step_ids.count(st.id) > 1:
            yield pf.problem(("item", "steps", j, "id"), f"step {st.id!r} is listed twice")
        if st.separate_from is not None and st.separate_from not in step_ids[:j]:
            yield pf.problem(("item", "steps", j, "separate_from"),
                             f"separate_from names {st.separate_from!r}, which is not an earlier step of this item")
    out = item.outputs
    if out.effect == "enrol" and out.benefit_code is None:
        yield pf.problem(("item", "outputs", "benefit_code"), "an enrolment names its benefit_code")


# --- onethings/*.yaml --------------------------------------------------------------------------


class OneThingDecl(PackModel):
    id: Annotated[StableId, Defines("onething")]
    title: Text
    description: Text
    items: Annotated[list[str], RefersTo("item")] = Field(min_length=2)
    requires: dict[str, list[str]] = {}  # item → the items it waits for (checked below)
    optional: list[str] = []  # items the resident may leave out
    choose_one: list[list[str]] = []  # groups of alternatives: one of each (at most one if all optional)
    visits: int = Field(0, ge=0, le=10)  # on-site visits for the whole one-thing
    applicants: list[Literal["resident"]] = ["resident"]
    domain: DomainId
    life_events: list[LifeEventId] = []


class OneThingFile(SectionFile):
    onething: OneThingDecl


def check_onething(pf: PackFile, pack: Pack) -> Iterator[Problem]:
    from tongban.core.errors import Invalid
    from tongban.services.onething import find_cycle, resolve_choice

    ot: OneThingDecl = pf.model.onething
    for i, it in enumerate(ot.items):
        if ot.items.count(it) > 1:
            yield pf.problem(("onething", "items", i), f"item {it!r} is listed twice")
    for item_id, needs in ot.requires.items():
        if item_id not in ot.items:
            yield pf.problem(("onething", "requires", item_id), f"{item_id!r} is not one of this one-thing's items")
        for j, need in enumerate(needs):
            if need not in ot.items:
                yield pf.problem(("onething", "requires", item_id, j),
                                 f"{need!r} is not one of this one-thing's items")
    for i, it in enumerate(ot.optional):
        if it not in ot.items:
            yield pf.problem(("onething", "optional", i), f"{it!r} is not one of this one-thing's items")
    grouped: dict[str, int] = {}
    for g, group in enumerate(ot.choose_one):
        if len(set(group)) < 2:
            yield pf.problem(("onething", "choose_one", g), "a choose_one group names at least two items")
        for j, it in enumerate(group):
            if it not in ot.items:
                yield pf.problem(("onething", "choose_one", g, j), f"{it!r} is not one of this one-thing's items")
            elif grouped.setdefault(it, g) != g:
                yield pf.problem(("onething", "choose_one", g, j), f"{it!r} is in two choose_one groups")
        if len({it in ot.optional for it in group}) > 1:
            yield pf.problem(("onething", "choose_one", g),
                             "either every item of a choose_one group is optional or none is")
    for i, it in enumerate(ot.items):
        member: ItemDecl | None = pack.get("item", it)
        if member is not None and not member.published:
            yield pf.problem(("onething", "items", i), f"item {it!r} is not published (published: false)")
    cycle = find_cycle(ot.items, ot.requires)
    if cycle:
        yield pf.problem(("onething", "requires"), "the dependencies form a cycle: " + " → ".join(cycle))
    elif all(it in ot.items for group in ot.choose_one for it in group):
        try:
            resolve_choice(_dump(ot), None)
        except Invalid as exc:
            yield pf.problem(("onething", "items"), "the default choice (every item but the later "
                             f"alternatives of each choose_one group) is not valid: {exc}")
    types: dict[str, tuple[str, str]] = {}
    for i, it in enumerate(ot.items):
        item: ItemDecl | None = pack.get("item", it)
        if item is None:
            continue
        for f in item.form:
            element: Element | None = pack.get("element", f.element)
            if element is None:
                continue
            used_as = f.type or element.type
            if f.element in types and types[f.element][0] != used_as:
                yield pf.problem(("onething", "items", i),
                                 f"element {f.element!r} is a {types[f.element][0]} in {types[f.element][1]} "
                                 f"but a {used_as} in {it}")
            types.setdefault(f.element, (used_as, it))


# --- applying ----------------------------------------------------------------------------------


def _dump(model: PackModel) -> dict[str, Any]:
    return model.model_dump(mode="json")


def apply_elements(session: Session, files: list[PackFile], pack: Pack) -> Changes:
    from tongban.core.packs.sections import upsert
    from tongban.services.models import DataElement

    changes = Changes()
    for pf in files:
        for e in pf.model.elements:
            changes.count(upsert(session, DataElement, e.id,
                                  dict(id=e.id, type=e.type, definition=_dump(e), pack_id=pack.id)))
    return changes


def apply_certificate_types(session: Session, files: list[PackFile], pack: Pack) -> Changes:
    from tongban.core.packs.sections import upsert
    from tongban.services.models import CertificateType

    changes = Changes()
    for pf in files:
        for c in pf.model.certificate_types:
            changes.count(upsert(session, CertificateType, c.id, dict(id=c.id, definition=_dump(c), pack_id=pack.id)))
    return changes


def apply_items(session: Session, files: list[PackFile], pack: Pack) -> Changes:
    from tongban.core.packs.sections import upsert
    from tongban.services.models import ServiceItem

    changes = Changes()
    for pf in files:
        it: ItemDecl = pf.model.item
        changes.count(upsert(session, ServiceItem, it.id, dict(
            id=it.id, code=it.code, department_id=it.department, definition=_dump(it), pack_id=pack.id)))
    return changes


def apply_onethings(session: Session, files: list[PackFile], pack: Pack) -> Changes:
    from tongban.core.packs.sections import upsert
    from tongban.services.models import OneThing
    from tongban.services.onething import choice_savings

    changes = Changes()
    for pf in files:
        ot: OneThingDecl = pf.model.onething
        definition = _dump(ot)
        savings = choice_savings(definition, {i: _dump(pack.get("item", i)) for i in ot.items}, None)
        changes.count(upsert(session, OneThing, ot.id, dict(
            id=ot.id, definition=definition, savings=savings, pack_id=pack.id)))
    return changes


register_section("elements", ElementsFile, apply=apply_elements, check=check_elements, order=60,
                 description="Data elements (数据元): the fields service forms are built from.")
register_section("certificates", CertificatesFile, apply=apply_certificate_types, order=61,
                 description="Certificate types (电子证照) that items issue.")
register_section("items", ItemFile, files="items/*.yaml", apply=apply_items, check=check_item, order=62,
                 description="Service items (事项), one file each.")
register_section("onethings", OneThingFile, files="onethings/*.yaml", apply=apply_onethings,
                 check=check_onething, order=63, description="One-things (一件事): items applied for together.")


def _recount_due_dates(session: Session, year: int, calendar: Any) -> int:
    from tongban.services.deadlines import recount_due_dates

    return recount_due_dates(session, year, calendar)


# A loaded year's schedule recounts the running tasks' due dates (registered where the loader finds it).
on_schedule_loaded(_recount_due_dates)
