"""Importing registry files (CSV or Parquet): every row validated, valid rows upserted by their
natural key, invalid rows written to a reject file with the line and the reason in zh and en.

Each batch is its own transaction, so an interrupted import leaves no half-loaded batch, and
re-running the same file changes nothing (rows already there are counted as unchanged).
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
from pydantic import BaseModel, Field, ValidationError, field_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from tongban.core.db import Database
from tongban.core.errors import Invalid, TongbanError
from tongban.core.i18n import N_, gettext
from tongban.core.identity.models import Region
from tongban.registry.identifiers import validate_resident_id, validate_uscc
from tongban.registry.models import BenefitEnrolment, Household, IncomeRecord, LegalEntity, Person

# --- row models ------------------------------------------------------------------------------


def _blank_to_none(v: Any) -> Any:
    return None if isinstance(v, str) and not v.strip() else v


class _Row(BaseModel):
    model_config = {"extra": "forbid", "str_strip_whitespace": True}

    _blank = field_validator("*", mode="before")(_blank_to_none)


class PersonRow(_Row):
    id_number: str
    name: str = Field(min_length=1, max_length=50)
    sex: str = Field(pattern="^[MF]$")
    birth_date: dt.date
    phone: str | None = Field(None, pattern=r"^1\d{10}$")
    hukou_region_code: str = Field(pattern=r"^\d{6}(\d{3}){0,2}$")
    region_code: str = Field(pattern=r"^\d{12}$")
    alive: bool = True
    death_date: dt.date | None = None
    marital_status: str = Field("single", pattern="^(single|married|divorced|widowed)$")
    disability_type: str | None = Field(
        None, pattern="^(visual|hearing|speech|physical|intellectual|mental|multiple)$")
    disability_grade: int | None = Field(None, ge=1, le=4)
    employment_status: str = Field("unknown", pattern="^(employed|unemployed|retired|none|unknown)$")
    student_status: str | None = Field(None, pattern="^(preschool|primary|junior|senior|vocational|university)$")


class HouseholdRow(_Row):
    household_number: str = Field(min_length=1, max_length=20)
    region_code: str = Field(pattern=r"^\d{12}$")
    housing_area_m2: int | None = Field(None, ge=0, le=100000)
    vehicles: int = Field(0, ge=0, le=1000)


class EntityRow(_Row):
    uscc: str
    name: str = Field(min_length=1, max_length=200)
    entity_type: str = Field(pattern="^(company|individual|social_org|institution|government)$")
    region_code: str = Field(pattern=r"^\d{6}(\d{3}){0,2}$")
    status: str = Field("active", pattern="^(active|revoked|cancelled)$")
    established_on: dt.date | None = None


class IncomeRow(_Row):
    id_number: str
    month: str = Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")
    source: str = Field(pattern="^(wage|business|pension|transfer|property|other)$")
    amount_fen: int = Field(ge=0)


class EnrolmentRow(_Row):
    subject_kind: str = Field(pattern="^(person|household)$")
    subject_key: str = Field(description="The person's ID number or the household number.")
    benefit_code: str = Field(pattern=r"^[a-z][a-z0-9._-]{1,63}$")
    start_date: dt.date
    end_date: dt.date | None = None
    amount_fen: int | None = Field(None, ge=0)


# --- per-kind upserts ------------------------------------------------------------------------


@dataclass
class Counts:
    loaded: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0


class RowRejected(TongbanError):
    """A row that parsed but cannot be loaded (e.g. it refers to a person who does not exist)."""


def _apply(obj: Any, values: dict[str, Any]) -> bool:
    changed = False
    for k, v in values.items():
        if getattr(obj, k) != v:
            setattr(obj, k, v)
            changed = True
    return changed


def _check_region(session: Session, code: str, field_name: str, cache: dict[str, bool]) -> None:
    if code not in cache:
        cache[code] = session.get(Region, code) is not None
    if not cache[code]:
        raise RowRejected(N_("Unknown region code"), field=field_name)


def _person(session: Session, row: PersonRow, regions: dict[str, bool]) -> tuple[Any, dict[str, Any], Any]:
    validate_resident_id(row.id_number, field="id_number", birth_date=row.birth_date, sex=row.sex)
    _check_region(session, row.region_code, "region_code", regions)
    values = row.model_dump()
    values["id_number"] = row.id_number.upper()
    existing = session.scalar(select(Person).where(Person.id_number == values["id_number"]))
    return Person, values, existing


def _household(session: Session, row: HouseholdRow, regions: dict[str, bool]) -> tuple[Any, dict[str, Any], Any]:
    _check_region(session, row.region_code, "region_code", regions)
    existing = session.scalar(select(Household).where(Household.household_number == row.household_number))
    return Household, row.model_dump(), existing


def _entity(session: Session, row: EntityRow, regions: dict[str, bool]) -> tuple[Any, dict[str, Any], Any]:
    validate_uscc(row.uscc, field="uscc")
    _check_region(session, row.region_code, "region_code", regions)
    values = row.model_dump()
    values["uscc"] = row.uscc.upper()
    existing = session.scalar(select(LegalEntity).where(LegalEntity.uscc == values["uscc"]))
    return LegalEntity, values, existing


def _person_id(session: Session, id_number: str, field_name: str) -> int:
    validate_resident_id(id_number, field=field_name)
    pid = session.scalar(select(Person.id).where(Person.id_number == id_number.upper()))
    if pid is None:
        raise RowRejected(N_("No person with this ID number is in the registry"), field=field_name)
    return pid


def _income(session: Session, row: IncomeRow, regions: dict[str, bool]) -> tuple[Any, dict[str, Any], Any]:
    pid = _person_id(session, row.id_number, "id_number")
    values = {"person_id": pid, "month": row.month, "source": row.source, "amount_fen": row.amount_fen}
    existing = session.scalar(select(IncomeRecord).where(
        IncomeRecord.person_id == pid, IncomeRecord.month == row.month, IncomeRecord.source == row.source))
    return IncomeRecord, values, existing


def _enrolment(session: Session, row: EnrolmentRow, regions: dict[str, bool]) -> tuple[Any, dict[str, Any], Any]:
    if row.subject_kind == "person":
        sid = _person_id(session, row.subject_key, "subject_key")
    else:
        found = session.scalar(select(Household.id).where(Household.household_number == row.subject_key))
        if found is None:
            raise RowRejected(N_("No household with this number is in the registry"), field="subject_key")
        sid = found
    if row.end_date is not None and row.end_date < row.start_date:
        raise RowRejected(N_("The end date is before the start date"), field="end_date")
    values = {"subject_kind": row.subject_kind, "subject_id": sid, "benefit_code": row.benefit_code,
              "start_date": row.start_date, "end_date": row.end_date, "amount_fen": row.amount_fen}
    existing = session.scalar(select(BenefitEnrolment).where(
        BenefitEnrolment.subject_kind == row.subject_kind, BenefitEnrolment.subject_id == sid,
        BenefitEnrolment.benefit_code == row.benefit_code, BenefitEnrolment.start_date == row.start_date))
    return BenefitEnrolment, values, existing


Upsert = Callable[[Session, Any, dict[str, bool]], tuple[Any, dict[str, Any], Any]]
KINDS: dict[str, tuple[type[_Row], Upsert]] = {
    "persons": (PersonRow, _person),
    "households": (HouseholdRow, _household),
    "entities": (EntityRow, _entity),
    "incomes": (IncomeRow, _income),
    "enrolments": (EnrolmentRow, _enrolment),
}


# --- reading and the import loop ---------------------------------------------------------------


def read_rows(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, row) pairs: CSV line numbers count the header as line 1; Parquet rows from 1."""
    if path.suffix.lower() == ".parquet":
        frame = pl.read_parquet(path)
        for i, row in enumerate(frame.iter_rows(named=True), start=1):
            yield i, row
        return
    if path.suffix.lower() != ".csv":
        raise Invalid(N_("Import files are CSV or Parquet"), field="file")
    frame = pl.read_csv(path, infer_schema=False, encoding="utf8-lossy")
    for i, row in enumerate(frame.iter_rows(named=True), start=2):
        yield i, row


def _reason(exc: Exception, locale: str) -> tuple[str, str]:
    """(field, message) of a row error in one language."""
    if isinstance(exc, ValidationError):
        err = exc.errors()[0]
        fld = ".".join(str(p) for p in err["loc"]) or "row"
        kinds = {"missing": N_("This field is required"), "extra_forbidden": N_("Unknown column"),
                 "string_pattern_mismatch": N_("This value is not in the expected format"),
                 "date_from_datetime_parsing": N_("Not a valid date (YYYY-MM-DD)"),
                 "date_parsing": N_("Not a valid date (YYYY-MM-DD)"),
                 "int_parsing": N_("Enter a whole number"), "greater_than_equal": N_("The value is too small"),
                 "less_than_equal": N_("The value is too large"), "bool_parsing": N_("Enter true or false")}
        msg = kinds.get(err["type"], N_("This value is not valid"))
        return fld, gettext(msg, locale)
    if isinstance(exc, TongbanError):
        msg = gettext(exc.message, locale)
        return exc.field or "row", (msg % exc.params if exc.params else msg)
    raise exc


@dataclass
class ImportReport:
    kind: str
    counts: Counts = field(default_factory=Counts)
    reject_file: Path | None = None


def import_file(
    db: Database, kind: str, path: Path, *, reject_path: Path | None = None, batch_size: int = 1000,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    if kind not in KINDS:
        raise Invalid(N_("Unknown import kind"), field="kind")
    if not path.exists():
        raise Invalid(N_("The file does not exist"), field="file")
    model, upsert = KINDS[kind]
    reject_path = reject_path or path.with_name(path.stem + ".rejects.csv")
    report = ImportReport(kind=kind, reject_file=reject_path)
    regions: dict[str, bool] = {}
    with reject_path.open("w", newline="", encoding="utf-8") as fh:
        rejects = csv.writer(fh)
        rejects.writerow(["line", "field", "reason_zh", "reason_en"])
        batch: list[tuple[int, dict[str, Any]]] = []
        for line, raw in read_rows(path):
            batch.append((line, raw))
            if len(batch) >= batch_size:
                _load_batch(db, batch, model, upsert, regions, report.counts, rejects)
                if progress:
                    progress(len(batch))
                batch = []
        if batch:
            _load_batch(db, batch, model, upsert, regions, report.counts, rejects)
            if progress:
                progress(len(batch))
    if report.counts.rejected == 0:
        reject_path.unlink()
        report.reject_file = None
    return report


def _load_batch(db: Database, batch: list[tuple[int, dict[str, Any]]], model: type[_Row], upsert: Upsert,
                regions: dict[str, bool], counts: Counts, rejects: Any) -> None:
    """One transaction per batch; counts and rejects are kept only when it commits."""
    local = Counts()
    rejected: list[list[Any]] = []
    with db.unit_of_work() as session:
        for line, raw in batch:
            try:
                with session.begin_nested():
                    row = model.model_validate(raw)
                    table, values, existing = upsert(session, row, regions)
                    if existing is None:
                        session.add(table(**values))
                        local.loaded += 1
                    elif _apply(existing, values):
                        local.updated += 1
                    else:
                        local.unchanged += 1
                    session.flush()
            except (ValidationError, TongbanError) as exc:
                fld, zh = _reason(exc, "zh_CN")
                _f, en = _reason(exc, "en")
                rejected.append([line, fld, zh, en])
                local.rejected += 1
        write_batch_hook(len(batch))
    for r in rejected:
        rejects.writerow(r)
    counts.loaded += local.loaded
    counts.updated += local.updated
    counts.unchanged += local.unchanged
    counts.rejected += local.rejected


def write_batch_hook(rows: int) -> None:
    """Called inside each batch's transaction before it commits (tests interrupt imports here)."""
