"""The `datasets.yaml` pack section: catalog entries with fields, grades and sharing terms."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Literal

from pydantic import Field
from sqlalchemy.orm import Session

from tongban.core import masking
from tongban.core.db import all_tables
from tongban.core.packs.loader import Changes, Pack, PackFile, Problem, register_section
from tongban.core.packs.models import Defines, PackModel, RefersTo, SectionFile, StableId, Text
from tongban.datahub.models import Dataset, DatasetField

FieldName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")]


class FieldDecl(PackModel):
    name: FieldName
    title: Text
    type: Literal["string", "integer", "number", "date", "boolean", "money"]
    grade: int = Field(ge=1, le=4)
    personal: bool = False
    mask: str | None = None
    filterable: bool = False


class DatasetDecl(PackModel):
    id: Annotated[StableId, Defines("dataset")]
    title: Text
    description: Text | None = None
    owner: Annotated[str, RefersTo("department")]
    source_system: str = ""
    update_frequency: Literal["realtime", "daily", "weekly", "monthly", "yearly"]
    sharing: Literal["unconditional", "conditional", "none"]
    legal_basis: str | None = None
    opening: Literal["open", "restricted", "closed"]
    version: str = "1"
    table: str | None = None
    parquet: str | None = None  # a folder of Parquet files (e.g. a generated city) instead of a table
    subject_field: str | None = None
    # DCAT-AP theme (EU data-theme vocabulary), for the catalog export
    theme: Literal["AGRI", "ECON", "EDUC", "ENER", "ENVI", "GOVE", "HEAL", "INTR", "JUST", "REGI", "SOCI", "TECH",
                   "TRAN"] | None = None
    fields: list[FieldDecl] = Field(min_length=1)


class AggregateSettings(PackModel):
    # Counts (and sums) below this are suppressed in aggregates (datahub.release.suppress).
    min_count: int = Field(10, ge=2, le=1000)


class DatasetsFile(SectionFile):
    aggregates: AggregateSettings = Field(default_factory=AggregateSettings)
    datasets: list[DatasetDecl]


def _table_columns(name: str) -> set[str] | None:
    metadata = all_tables()

    table = metadata.tables.get(name)
    return None if table is None else {c.name for c in table.columns}


def check_datasets(pf: PackFile, pack: Pack) -> Iterator[Problem]:
    model: DatasetsFile = pf.model
    for i, ds in enumerate(model.datasets):
        if ds.sharing == "none" and not (ds.legal_basis or "").strip():
            yield pf.problem(("datasets", i, "sharing"), "不予共享 (sharing: none) needs a legal_basis")
        if ds.opening == "open" and any(f.grade > 1 for f in ds.fields):
            yield pf.problem(("datasets", i, "opening"), "a dataset open to all (opening: open) may hold only L1 fields")
        names = [f.name for f in ds.fields]
        for j, f in enumerate(ds.fields):
            if names.count(f.name) > 1:
                yield pf.problem(("datasets", i, "fields", j, "name"), f"field {f.name!r} is listed twice")
            if f.mask is not None and f.mask not in masking.MASKS:
                yield pf.problem(("datasets", i, "fields", j, "mask"),
                                 f"unknown mask {f.mask!r}; one of {', '.join(masking.MASKS)}")
        if ds.table is not None and ds.parquet is not None:
            yield pf.problem(("datasets", i, "parquet"), "a dataset is held in a table or in Parquet, not both")
        if ds.table is not None:
            columns = _table_columns(ds.table)
            if columns is None:
                yield pf.problem(("datasets", i, "table"), f"no table {ds.table!r}")
                continue
            for j, f in enumerate(ds.fields):
                if f.name not in columns:
                    yield pf.problem(("datasets", i, "fields", j, "name"), f"table {ds.table!r} has no column {f.name!r}")
            if ds.subject_field is not None and ds.subject_field not in names:
                yield pf.problem(("datasets", i, "subject_field"), "subject_field must be one of the fields")


def apply_datasets(session: Session, files: list[PackFile], pack: Pack) -> Changes:
    from tongban.core.packs.sections import upsert

    changes = Changes()
    for pf in files:
        for ds in pf.model.datasets:
            outcome = upsert(session, Dataset, ds.id, dict(
                id=ds.id, title_zh=ds.title.zh, title_en=ds.title.en,
                description_zh=ds.description.zh if ds.description else "",
                description_en=ds.description.en if ds.description else "",
                owner_department_id=ds.owner, source_system=ds.source_system,
                update_frequency=ds.update_frequency, sharing_type=ds.sharing, legal_basis=ds.legal_basis,
                opening_type=ds.opening, version=ds.version, table_name=ds.table, parquet_path=ds.parquet,
                subject_field=ds.subject_field, theme=ds.theme, min_count=pf.model.aggregates.min_count,
                pack_id=pack.id))
            session.flush()
            field_changed = False
            for pos, f in enumerate(ds.fields):
                result = upsert(session, DatasetField, (ds.id, f.name), dict(
                    dataset_id=ds.id, name=f.name, position=pos, title_zh=f.title.zh, title_en=f.title.en,
                    type=f.type, grade=f.grade, personal=f.personal, mask=f.mask, filterable=f.filterable))
                field_changed = field_changed or result != "unchanged"
            if field_changed:  # the exchange caches fields per (dataset, updated_at)
                from tongban.core.timeutil import utcnow

                session.get_one(Dataset, ds.id).updated_at = utcnow()
            changes.count("updated" if outcome == "unchanged" and field_changed else outcome)
    return changes


register_section("datasets", DatasetsFile, apply=apply_datasets, check=check_datasets, order=50,
                 description="Catalog datasets (数据资源目录): fields, grades L1–L4, sharing and opening terms.")


# --- standing grants of the demo (共享协议): applied by `tongban demo load` only ------------------


class StandingGrant(PackModel):
    id: StableId
    department: Annotated[str, RefersTo("department")]
    dataset: Annotated[str, RefersTo("dataset")]
    fields: list[FieldName] = Field(min_length=1)
    clear_fields: list[FieldName] = []
    purpose: str = Field(min_length=4)
    legal_basis: str = Field(min_length=2)
    days: int = Field(365, ge=1, le=3 * 365)


class GrantsFile(SectionFile):
    grants: list[StandingGrant]


def check_grants(pf: PackFile, pack: Pack) -> Iterator[Problem]:
    model: GrantsFile = pf.model
    for i, g in enumerate(model.grants):
        for j, name in enumerate(g.clear_fields):
            if name not in g.fields:
                yield pf.problem(("grants", i, "clear_fields", j), f"{name!r} is not one of the granted fields")


def apply_grants(session: Session, files: list[PackFile], pack: Pack) -> Changes:
    from sqlalchemy import select

    from tongban.datahub import sharing
    from tongban.datahub.models import SharingRequest

    changes = Changes()
    for pf in files:
        for g in pf.model.grants:
            marker = f"pack:{g.id}"
            if session.scalar(select(SharingRequest.id).where(SharingRequest.requested_by == marker)):
                changes.count("unchanged")
                continue
            req = SharingRequest(dataset_id=g.dataset, consumer_department_id=g.department, fields=list(g.fields),
                                 clear_fields=list(g.clear_fields), purpose=g.purpose, legal_basis=g.legal_basis,
                                 period_days=g.days, requested_by=marker, status="pending")
            session.add(req)
            session.flush()
            sharing.approve_request(session, req, decided_by=marker, reason="standing agreement of the demo pack")
            changes.count("created")
    return changes


register_section("grants", GrantsFile, apply=apply_grants, check=check_grants, order=60, demo_only=True,
                 id_keys=("id",), description="Standing sharing grants (共享协议) of the demo (demo only).")
