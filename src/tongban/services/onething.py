"""一件事: the dependency graph of a one-thing's items, its merged form (each data element
asked once, as one JSON Schema), and what it saves against applying item by item
(减表、减材料、减环节、减时间), computed when the pack is loaded.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tongban.core.errors import NotFound
from tongban.core.i18n import N_, pick
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


# --- reading ------------------------------------------------------------------------------------


def get_onething(session: Session, onething_id: str) -> OneThing:
    ot = session.get(OneThing, onething_id)
    if ot is None:
        raise NotFound(N_("No such one-thing"))
    return ot


def get_item(session: Session, item_id: str) -> ServiceItem:
    item = session.get(ServiceItem, item_id)
    if item is None:
        raise NotFound(N_("No such service item"))
    return item


def list_onethings(session: Session) -> list[OneThing]:
    return list(session.scalars(select(OneThing).order_by(OneThing.id)))


def items_of(session: Session, onething: OneThing) -> list[ServiceItem]:
    ids: list[str] = onething.definition["items"]
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
        if element.get("max_length"):
            prop["maxLength"] = element["max_length"]
        if element.get("format") == "resident_id":
            prop.update(pattern=r"^\d{17}[\dXx]$", **{"x-format": "resident_id"})
        elif element.get("format") == "phone":
            prop.update(pattern=r"^1\d{10}$", **{"x-format": "phone"})
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
