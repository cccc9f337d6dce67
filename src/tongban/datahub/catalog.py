"""The catalog (数据资源目录): search and read dataset entries."""

from __future__ import annotations

import re
from collections.abc import Collection
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from tongban.core import access
from tongban.core.access import Principal
from tongban.core.errors import Invalid, NotFound
from tongban.core.i18n import N_, pick
from tongban.datahub.models import Dataset, DatasetField

# How often a dataset is updated, in words (the catalog and the open-data page).
UPDATE_FREQUENCIES = {"realtime": N_("In real time"), "daily": N_("Daily"), "weekly": N_("Weekly"),
                      "monthly": N_("Monthly"), "yearly": N_("Yearly")}


def department_names(session: Session) -> dict[str, str]:
    """Every department's name in the reader's language, by id: pages never show the raw id."""
    from tongban.core.identity.models import Department

    return {d: pick({"zh": zh, "en": en}) for d, zh, en in session.execute(
        select(Department.id, Department.name_zh, Department.name_en))}


def find_dataset(session: Session, dataset_id: str) -> Dataset | None:
    """The catalog entry `dataset_id`, or None (for a caller that shows the id instead)."""
    return session.get(Dataset, dataset_id)


def get_dataset(session: Session, dataset_id: str) -> Dataset:
    ds = session.get(Dataset, dataset_id)
    if ds is None:
        raise NotFound(N_("No such dataset"))
    return ds


FIELD_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


def check_fields(names: list[str], known: Collection[str]) -> None:
    """Every requested name must be a catalog field; a name that is not even shaped like one (it
    could be personal data typed in the wrong place) is not echoed back."""
    if not names:
        raise Invalid(N_("Name at least one field"), field="fields")
    for name in names:
        if name not in known:
            shown = name if isinstance(name, str) and FIELD_NAME.match(name) else "?"
            raise Invalid(N_("Unknown field: %(name)s"), field="fields", name=shown)


def fields_of(session: Session, dataset_id: str) -> list[DatasetField]:
    return list(session.scalars(select(DatasetField).where(DatasetField.dataset_id == dataset_id)
                                .order_by(DatasetField.position)))


def search(session: Session, *, principal: Principal, q: str | None = None, owner: str | None = None,
           sharing: str | None = None) -> list[Dataset]:
    """Catalog search for signed-in staff and clients; 禁止开放 entries are not hidden from staff
    (the catalog itself is shared inside government), only their data is guarded. Residents
    are refused: what is open to the public is the open-data list (`/open`), without the closed."""
    access.require_government(principal, action="catalog.search")
    query = select(Dataset)
    if q:
        term = q.strip()  # a literal substring: % and _ typed by the user are not wildcards
        query = query.where(or_(Dataset.title_zh.contains(term, autoescape=True),
                                Dataset.title_en.icontains(term, autoescape=True),
                                Dataset.description_zh.contains(term, autoescape=True),
                                Dataset.id.contains(term, autoescape=True)))
    if owner:
        query = query.where(Dataset.owner_department_id == owner)
    if sharing:
        query = query.where(Dataset.sharing_type == sharing)
    return list(session.scalars(query.order_by(Dataset.id)))


def dataset_dict(session: Session, ds: Dataset, *, with_fields: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": ds.id, "title": pick({"zh": ds.title_zh, "en": ds.title_en}),
        "title_i18n": {"zh": ds.title_zh, "en": ds.title_en},
        "description": pick({"zh": ds.description_zh, "en": ds.description_en}),
        "owner_department_id": ds.owner_department_id, "source_system": ds.source_system,
        "update_frequency": ds.update_frequency, "sharing_type": ds.sharing_type,
        "legal_basis": ds.legal_basis, "opening_type": ds.opening_type, "version": ds.version,
    }
    if with_fields:
        out["fields"] = [{"name": f.name, "title": pick({"zh": f.title_zh, "en": f.title_en}), "type": f.type,
                          "grade": f"L{f.grade}", "personal": f.personal, "filterable": f.filterable}
                         for f in fields_of(session, ds.id)]
    return out
