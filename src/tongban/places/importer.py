"""Importing places from CSV or Parquet, as registry imports do: the header is checked before
anything is written, every row validated, valid rows upserted by `key` in batches of one
transaction each, invalid rows written to a reject file with the line, the field and the reason
in zh and en. A row's coordinates are in its `datum` column (or the import's `datum`), converted
to the stored WGS-84 (`core.geo`). Staff import only places in their own region.

Columns: key, name_zh, category, longitude, latitude (required); name_en, region_code, address,
phone, datum, hours ("mon-fri 08:30-17:00; sat 09:00-12:00"), holidays (open | closed),
services, accessibility, items (each a list separated by ";").
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from tongban.core import access, text
from tongban.core.audit.log import record
from tongban.core.db import Database
from tongban.core.errors import Invalid, TongbanError
from tongban.core.i18n import N_
from tongban.core.identity.models import Region
from tongban.core.text import FreeText
from tongban.places import service
from tongban.places.models import PlaceCategory
from tongban.registry.importer import columns, read_rows, row_reason

BATCH = 500


class PlaceRow(BaseModel):
    model_config = {"extra": "forbid", "str_strip_whitespace": True}

    key: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
    name_zh: FreeText = Field(min_length=1, max_length=200)
    name_en: FreeText | None = Field(None, max_length=300)
    category: str = Field(max_length=32)
    region_code: str | None = Field(None, pattern=r"^\d{6}(\d{3}){0,2}$")
    address: FreeText | None = Field(None, max_length=300)
    phone: str | None = Field(None, pattern=r"^[0-9+\-() ]{3,40}$")
    longitude: float
    latitude: float
    datum: str | None = Field(None, pattern="^(wgs84|gcj02)$")
    hours: str | None = Field(None, max_length=500)
    holidays: str = Field("closed", pattern="^(open|closed)$")
    services: str | None = Field(None, max_length=1000)
    accessibility: str | None = Field(None, max_length=300)
    items: str | None = Field(None, max_length=2000)


_MESSAGES = {
    "missing": N_("This field is required"), "extra_forbidden": N_("Unknown column"),
    "string_pattern_mismatch": N_("This value is not in the expected format"),
    "string_too_long": N_("This value is too long"), "string_too_short": N_("This field is required"),
    "string_type": N_("This value is not in the expected format"),
    "float_parsing": N_("Enter a number"), "float_type": N_("Enter a number"),
    **text.VALIDATION_MESSAGES,
}




def _list(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(";") if v.strip()]


@dataclass
class Report:
    loaded: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    reject_file: Path | None = None
    rejects: list[list[Any]] = field(default_factory=list)


def import_places(db: Database | None, path: Path, *, principal: access.Principal, datum: str = "wgs84",
                  reject_path: Path | None = None, progress: Callable[[int], None] | None = None,
                  session: Session | None = None) -> Report:
    """Import one file (see the module docstring). Raises `Invalid`, writing nothing, when the
    file or its header is wrong. With `session` (an API request's) every batch runs in that one
    transaction instead of one of its own."""
    access.require_any(principal, "places.manage", "platform.admin")
    if datum not in ("wgs84", "gcj02"):
        raise Invalid(N_("The datum is wgs84 or gcj02"), field="datum")
    if not path.is_file():
        raise Invalid(N_("The file does not exist"), field="file")
    names = columns(path)
    required = {n for n, f in PlaceRow.model_fields.items() if f.is_required()}
    missing = sorted(required - set(names))
    if missing:
        raise Invalid(N_("A required column is missing"), field=missing[0])
    unknown = [n for n in names if n not in PlaceRow.model_fields]
    if unknown:
        raise Invalid(N_("Unknown column"), field=unknown[0])
    report = Report()
    seen: dict[str, int] = {}

    def unit() -> AbstractContextManager[Session]:
        if session is not None:
            return nullcontext(session)
        assert db is not None
        return db.unit_of_work()

    batch: list[tuple[int, dict[str, Any]]] = []
    for line, raw in read_rows(path):
        batch.append((line, raw))
        if len(batch) >= BATCH:
            _batch(unit, batch, principal, datum, seen, report)
            if progress:
                progress(len(batch))
            batch = []
    if batch:
        _batch(unit, batch, principal, datum, seen, report)
        if progress:
            progress(len(batch))
    if report.rejects:
        report.reject_file = reject_path or path.with_name(path.stem + ".rejects.csv")
        with report.reject_file.open("w", newline="", encoding="utf-8") as fh:
            out = csv.writer(fh)
            out.writerow(["line", "field", "reason_zh", "reason_en"])
            ordered: list[list[Any]] = sorted(report.rejects, key=lambda r: int(r[0]))
            out.writerows(ordered)
    return report


def _reject(report: Report, rejected: list[list[Any]], line: int, exc: Exception) -> None:
    fld, zh = row_reason(exc, "zh_CN", _MESSAGES)
    _f, en = row_reason(exc, "en", _MESSAGES)
    rejected.append([line, fld, zh, en])


def _values(session: Session, row: PlaceRow, principal: access.Principal, datum: str,
            regions: dict[str, bool], cats: set[str]) -> dict[str, Any]:
    if row.category not in cats:
        raise Invalid(N_("Unknown place category"), field="category")
    if row.region_code is not None:
        if row.region_code not in regions:
            regions[row.region_code] = session.get(Region, row.region_code) is not None
        if not regions[row.region_code]:
            raise Invalid(N_("Unknown region code"), field="region_code")
    if principal.kind != "system" and not access.can_act_in_region(principal, row.region_code or None):
        raise Invalid(N_("This place is outside your region"), field="region_code")
    hours = {"weekly": service.parse_hours_text(row.hours or ""), "holidays": row.holidays}
    return service.place_values(
        key=row.key, name_zh=row.name_zh, name_en=row.name_en, category=row.category, region_code=row.region_code,
        address=row.address, phone=row.phone, latitude=row.latitude, longitude=row.longitude,
        datum=row.datum or datum, hours=hours, services=_list(row.services),
        accessibility=_list(row.accessibility), items=_list(row.items), source="import", demo=False)


def _batch(unit: Callable[[], AbstractContextManager[Session]], batch: list[tuple[int, dict[str, Any]]], principal: access.Principal, datum: str,
           seen: dict[str, int], report: Report) -> None:
    """One transaction; the report and the seen keys change only when it commits."""
    rejected: list[list[Any]] = []
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    new_seen: dict[str, int] = {}
    with unit() as session:
        cats = set(session.scalars(select(PlaceCategory.code)))
        regions: dict[str, bool] = {}
        for line, raw in batch:
            try:
                row = PlaceRow.model_validate({k: v for k, v in raw.items()
                                               if v is not None and not (isinstance(v, str) and not v.strip())})
                first = seen.get(row.key) or new_seen.get(row.key)
                if first is not None:
                    raise Invalid(N_("This row repeats the key of line %(line)s"), field="key", line=first)
                values = _values(session, row, principal, datum, regions, cats)
            except (ValidationError, TongbanError) as exc:
                _reject(report, rejected, line, exc)
                continue
            new_seen[row.key] = line
            counts[service.upsert(session, values)] += 1
        session.flush()
        record(session, actor=principal.actor, action="places.import", outcome="ok",
                     details={"created": counts["created"], "updated": counts["updated"],
                              "rejected": len(rejected)})
    seen.update(new_seen)
    report.loaded += counts["created"]
    report.updated += counts["updated"]
    report.unchanged += counts["unchanged"]
    report.rejected += len(rejected)
    report.rejects.extend(rejected)
