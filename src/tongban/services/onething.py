"""一件事: the dependency graph of a one-thing's items, its merged form (each data element
asked once, as one JSON Schema), and what it saves against applying item by item
(减表、减材料、减环节、减时间), computed when the pack is loaded.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tongban.core.errors import Invalid, NotFound
from tongban.core.i18n import N_, pick
from tongban.core.text import FREE_TEXT_MAX
from tongban.services.models import DataElement, OneThing, ServiceItem

# --- the graph ----------------------------------------------------------------------------------


def find_cycle(items: Sequence[str], requires: Mapping[str, Sequence[str]]) -> list[str] | None:
    """A cycle among `requires` (item → prerequisites) as a path `a → b → a`, or None."""
    state: dict[str, int] = {}  # 1 = on the stack, 2 = done
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in requires.get(node, ()):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt):], nxt]
            if state.get(nxt) is None:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for node in [*items, *requires]:
        if state.get(node) is None:
            found = visit(node)
            if found:
                return found
    return None


def dependants(item_id: str, requires: Mapping[str, Sequence[str]]) -> set[str]:
    """Every item that waits for `item_id`, directly or through others."""
    out: set[str] = set()
    frontier = [item_id]
    while frontier:
        current = frontier.pop()
        for node, needs in requires.items():
            if current in needs and node not in out:
                out.add(node)
                frontier.append(node)
    return out


def critical_path_days(items: Sequence[Mapping[str, Any]], requires: Mapping[str, Sequence[str]]) -> int:
    """Promised working days along the longest chain of dependencies (independent items run in parallel)."""
    days = {it["id"]: int(it["promised_days"]) for it in items}
    memo: dict[str, int] = {}

    def finish(node: str) -> int:
        if node not in memo:
            memo[node] = days[node] + max((finish(n) for n in requires.get(node, ())), default=0)
        return memo[node]

    return max((finish(i) for i in days), default=0)


# --- choosing items ----------------------------------------------------------------------------


def has_choices(definition: Mapping[str, Any]) -> bool:
    """Whether the resident picks among the one-thing's items (`optional`, `choose_one`)."""
    return bool(definition.get("optional") or definition.get("choose_one"))


def default_choice(definition: Mapping[str, Any]) -> list[str]:
    """The items applied for when none are named: every item but the alternatives after the first
    of each `choose_one` group (the savings stored with the one-thing are this choice's)."""
    later = {alt for group in definition.get("choose_one", []) for alt in group[1:]}
    return [i for i in definition["items"] if i not in later]


def resolve_choice(definition: Mapping[str, Any],
                   chosen: Sequence[str] | None) -> tuple[list[str], dict[str, list[str]]]:
    """The items applied for, in the one-thing's order, and each one's prerequisites among them.

    `chosen` None means the default choice. Every item not in `optional` (nor in an optional
    `choose_one` group) must be chosen; of a `choose_one` group exactly one (at most one when
    the group's items are optional); a chosen item needs, for each of its prerequisites, that
    one or, when it is in a `choose_one` group, one of its alternatives it also lists. A
    fault raises `Invalid` on the field `items`."""
    items: list[str] = list(definition["items"])
    requires: Mapping[str, list[str]] = definition.get("requires", {})
    if chosen is None:
        picked = default_choice(definition)
    else:
        if isinstance(chosen, str) or not all(isinstance(c, str) for c in chosen):
            raise Invalid(N_("Name the items as a list of item ids"), field="items")
        unknown = [c for c in chosen if c not in items]
        if unknown:
            raise Invalid(N_("%(item)s is not one of this one-thing's items"), field="items", item=unknown[0])
        picked = [i for i in items if i in set(chosen)]
    if not picked:
        raise Invalid(N_("Choose at least one item"), field="items")
    optional = set(definition.get("optional", []))
    group_of = {i: tuple(g) for g in definition.get("choose_one", []) for i in g}
    for item in items:
        if item not in optional and item not in group_of and item not in picked:
            raise Invalid(N_("%(item)s is always part of this one-thing"), field="items", item=item)
    for group in definition.get("choose_one", []):
        taken = [i for i in group if i in picked]
        if len(taken) > 1:
            raise Invalid(N_("Choose only one of %(items)s"), field="items", items=" / ".join(group))
        if not taken and not all(i in optional for i in group):
            raise Invalid(N_("Choose one of %(items)s"), field="items", items=" / ".join(group))
    out: dict[str, list[str]] = {}
    for item in picked:
        needs = list(requires.get(item, []))
        for need in needs:
            alternatives = [n for n in needs if group_of.get(n) is not None and group_of.get(n) == group_of.get(need)]
            if not any(n in picked for n in alternatives or [need]):
                raise Invalid(N_("%(item)s needs %(needs)s"), field="items", item=item,
                              needs=" / ".join(alternatives or [need]))
        kept = [n for n in needs if n in picked]
        if kept:
            out[item] = kept
    return picked, out


# --- savings -----------------------------------------------------------------------------------


def _asked_materials(items: Sequence[Mapping[str, Any]]) -> set[str]:
    """Materials of the one-thing's form: each once, minus those another of its items issues."""
    issued = {it["outputs"]["certificate"] for it in items if it["outputs"].get("certificate")}
    return {m["id"] for it in items for m in it["materials"] if m.get("certificate") not in issued}


def compute_savings(onething: Mapping[str, Any], items: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """What applying once saves against applying for each item alone."""
    requires = onething.get("requires", {})

    def figure(separately: int, together: int) -> dict[str, int]:
        return {"separately": separately, "onething": together, "saved": separately - together}

    return {
        "forms": figure(len(items), 1),
        "fields": figure(sum(len(it["form"]) for it in items),
                         len({f["element"] for it in items for f in it["form"]})),
        "materials": figure(sum(len(it["materials"]) for it in items), len(_asked_materials(items))),
        "visits": figure(sum(int(it["visits"]) for it in items), int(onething.get("visits", 0))),
        "days": figure(sum(int(it["promised_days"]) for it in items), critical_path_days(items, requires)),
    }


def choice_savings(definition: Mapping[str, Any], items: Mapping[str, Mapping[str, Any]],
                   chosen: Sequence[str] | None) -> dict[str, Any]:
    """The savings of applying once for the `chosen` items (None: the default choice);
    `items` maps item ids to their definitions."""
    picked, requires = resolve_choice(definition, chosen)
    return compute_savings({**definition, "requires": requires}, [items[i] for i in picked])


# --- reading ------------------------------------------------------------------------------------


def get_onething(session: Session, onething_id: str) -> OneThing:
    ot = session.get(OneThing, onething_id)
    if ot is None:
        raise NotFound(N_("No such one-thing"))
    return ot


def scope_title(session: Session, scope: str) -> str | None:
    """The title of a one-thing or item named by a consent's scope (the data hub's "datahub.scope_titles")."""
    found = session.get(OneThing, scope) or session.get(ServiceItem, scope)
    return pick(found.definition["title"]) if found is not None else None


def get_item(session: Session, item_id: str) -> ServiceItem:
    item = session.get(ServiceItem, item_id)
    if item is None:
        raise NotFound(N_("No such service item"))
    return item


def list_onethings(session: Session) -> list[OneThing]:
    return list(session.scalars(select(OneThing).order_by(OneThing.id)))


def items_of(session: Session, onething: OneThing, chosen: Sequence[str] | None = None) -> list[ServiceItem]:
    """The one-thing's items, or only `chosen` of them (in the one-thing's order)."""
    ids: list[str] = [i for i in onething.definition["items"] if chosen is None or i in chosen]
    rows = {i.id: i for i in session.scalars(select(ServiceItem).where(ServiceItem.id.in_(ids)))}
    return [rows[i] for i in ids]


def elements_of(session: Session, items: Sequence[ServiceItem]) -> dict[str, DataElement]:
    ids = {f["element"] for it in items for f in it.definition["form"]}
    return {e.id: e for e in session.scalars(select(DataElement).where(DataElement.id.in_(ids)))}


# --- the merged form ----------------------------------------------------------------------------


def _property(element: Mapping[str, Any], label: Mapping[str, str] | None, used_by: list[str]) -> dict[str, Any]:
    prop: dict[str, Any] = {"title": pick(dict(label or element["name"])),
                            "x-title-i18n": dict(label or element["name"]), "x-items": used_by}
    kind = element["type"]
    if kind == "date":
        prop.update(type="string", format="date")
    elif kind == "enum":
        prop.update(type="string", enum=list(element["enum"]))
    elif kind in ("integer", "boolean"):
        prop["type"] = kind
    else:
        prop["type"] = "string"
        prop["maxLength"] = element.get("max_length") or FREE_TEXT_MAX
        if element.get("format") == "resident_id":
            prop.update(pattern=r"^\d{17}[\dXx]$", **{"x-format": "resident_id"})
        elif element.get("format") == "phone":
            prop.update(pattern=r"^1\d{10}$", **{"x-format": "phone"})
        elif element.get("format") == "person_name":
            prop["x-format"] = "person_name"
    if element.get("help"):
        prop["description"] = pick(element["help"])
    return prop


def merged_schema(items: Sequence[ServiceItem], elements: Mapping[str, DataElement]) -> dict[str, Any]:
    """One JSON Schema for all the items' forms: each element once, required if any item requires it."""
    properties: dict[str, Any] = {}
    required: list[str] = []
    for item in items:
        for f in item.definition["form"]:
            el = f["element"]
            if el not in properties:
                properties[el] = _property(elements[el].definition, f.get("label"), [])
            properties[el]["x-items"].append(item.id)
            if f.get("required", True) and el not in required:
                required.append(el)
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object",
            "properties": properties, "required": required, "additionalProperties": False}
