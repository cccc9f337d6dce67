"""The pack's service catalogue as this process last read it: one-things, items, data elements
and the departments they route to, which change only when a pack is loaded. A submission needs
them all; reading them once per pack instead of four queries (and their JSON) per request keeps
the hot path short.

The snapshot (`core.invalidation.DatabaseCache`) is keyed by the current pack record (its row
id, version and load time), checked at most every `RECHECK_SECONDS` with one small query. Loading a pack adds or changes that record,
so every process sees the new content within that time; a flush in this process that touches a
catalogue table (the pack loader, an operator creating a department, a test) drops the snapshot
at once. The rows handed out are transient copies shared between requests: read them, never
change them or add them to a session.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tongban.core.errors import NotFound
from tongban.core.i18n import N_
from tongban.core.identity.models import Department, PackRecord
from tongban.core.invalidation import DatabaseCache
from tongban.services.models import DataElement, OneThing, ServiceItem

_WATCHED = (OneThing, ServiceItem, DataElement, Department, PackRecord)
RECHECK_SECONDS = 1.0


@dataclass(frozen=True)
class Catalogue:
    pack: tuple[str, str] | None  # (pack id, version) of the current pack
    onethings: Mapping[str, OneThing]
    items: Mapping[str, ServiceItem]
    elements: Mapping[str, DataElement]
    departments: Mapping[str, Department]

    def onething(self, onething_id: str) -> OneThing:
        ot = self.onethings.get(onething_id)
        if ot is None:
            raise NotFound(N_("No such one-thing"))
        return ot

    def item(self, item_id: str) -> ServiceItem:
        item = self.items.get(item_id)
        if item is None:
            raise NotFound(N_("No such service item"))
        return item

    def items_of(self, onething: OneThing, chosen: Sequence[str] | None = None) -> list[ServiceItem]:
        """The one-thing's items, or only `chosen` of them (in the one-thing's order)."""
        return [self.items[i] for i in onething.definition["items"] if chosen is None or i in chosen]

    def elements_of(self, items: Sequence[ServiceItem]) -> dict[str, DataElement]:
        return {f["element"]: self.elements[f["element"]] for it in items for f in it.definition["form"]
                if f["element"] in self.elements}


def _key(session: Session) -> tuple[Any, ...]:
    """The current pack record (row id, pack id, version, load time): loading a pack changes it."""
    rec = session.execute(select(PackRecord.id, PackRecord.pack_id, PackRecord.version, PackRecord.loaded_at)
                          .where(PackRecord.current.is_(True))
                          .order_by(PackRecord.loaded_at.desc(), PackRecord.id.desc()).limit(1)).first()
    return tuple(rec) if rec else ()


def _load(session: Session, key: tuple[Any, ...]) -> Catalogue:
    def copy(model: type[Any], row: Any, columns: Sequence[str]) -> Any:
        return model(**{c: getattr(row, c) for c in columns})

    onethings = {o.id: copy(OneThing, o, ("id", "definition", "savings", "pack_id"))
                 for o in session.scalars(select(OneThing))}
    items = {i.id: copy(ServiceItem, i, ("id", "code", "department_id", "definition", "pack_id"))
             for i in session.scalars(select(ServiceItem))}
    elements = {e.id: copy(DataElement, e, ("id", "type", "definition", "pack_id"))
                for e in session.scalars(select(DataElement))}
    departments = {d.id: copy(Department, d, [c.key for c in Department.__table__.columns])
                   for d in session.scalars(select(Department))}
    return Catalogue(pack=(key[1], key[2]) if key else None, onethings=onethings, items=items, elements=elements,
                     departments=departments)


_CACHE = DatabaseCache("catalogue", _WATCHED, recheck_seconds=RECHECK_SECONDS, key=_key, load=_load)


def current(session: Session) -> Catalogue:
    """The catalogue for this unit of work (at most one query, for the current pack)."""
    return _CACHE.get(session)


def invalidate() -> None:
    _CACHE.forget()
