"""Importing registry files (CSV or Parquet): every row validated, valid rows upserted by their
natural key, invalid rows written to a reject file with the line and the reason in zh and en.

How one import runs:

1. The header is checked first: a missing required column or an unknown one stops the import
   before anything is written (columns of the table that are not imported, such as the
   synthetic city's `id`, are ignored and reported).
2. Rows are streamed with Polars in batches. Each batch is ONE transaction: rows are validated
   (Pydantic models; ID numbers and credit codes by their check characters; regions, persons and
   households looked up in bulk), the batch's existing rows are fetched by natural key and
   compared, and new or changed rows are written with one Core `INSERT … ON CONFLICT (natural
   key) DO UPDATE`. An interrupted import leaves no half-loaded batch; re-running it completes
   the rest, and re-running a finished import changes nothing (every row counts as unchanged).
3. A row whose natural key repeats an earlier row of the same file is rejected (the file must
   say one thing per key).

Line numbers: CSV counts the header as line 1 (records with embedded line breaks count as one
line); Parquet rows count from 1.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import polars as pl
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy import Table, select, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from tongban.core import text
from tongban.core.db import Database
from tongban.core.errors import Invalid, TongbanError
from tongban.core.i18n import N_, gettext
from tongban.core.identity.models import Region
from tongban.core.text import FreeText, PersonName
from tongban.core.timeutil import utcnow
from tongban.registry.identifiers import validate_resident_id, validate_uscc
from tongban.registry.models import BenefitEnrolment, Household, IncomeRecord, LegalEntity, Person

# --- row models ------------------------------------------------------------------------------


def _blank(v: Any) -> bool:
    return v is None or (isinstance(v, str) and not v.strip())


class _Row(BaseModel):
    """A row of an import file. Blank cells are left out before validation, so a blank optional
    cell takes its default (or None) and a blank required cell is "required"."""

    model_config = {"extra": "forbid", "str_strip_whitespace": True}


class PersonRow(_Row):
    id_number: str = Field(max_length=18)
    name: PersonName = Field(min_length=1, max_length=50)
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
    household_number: FreeText = Field(min_length=1, max_length=20)
    region_code: str = Field(pattern=r"^\d{12}$")
    housing_area_m2: int | None = Field(None, ge=0, le=100000)
    vehicles: int = Field(0, ge=0, le=1000)


class EntityRow(_Row):
    uscc: str = Field(max_length=18)
    name: FreeText = Field(min_length=1, max_length=200)
    entity_type: str = Field(pattern="^(company|individual|social_org|institution|government)$")
    region_code: str = Field(pattern=r"^\d{6}(\d{3}){0,2}$")
    status: str = Field("active", pattern="^(active|revoked|cancelled)$")
    established_on: dt.date | None = None


class IncomeRow(_Row):
    id_number: str = Field(max_length=18)
    month: str = Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")
    source: str = Field(pattern="^(wage|business|pension|transfer|property|other)$")
    amount_fen: int = Field(ge=0)


class EnrolmentRow(_Row):
    subject_kind: str = Field(pattern="^(person|household)$")
    subject_key: str = Field(max_length=20, description="The person's ID number or the household number.")
    benefit_code: str = Field(pattern=r"^[a-z][a-z0-9._-]{1,63}$")
    start_date: dt.date
    end_date: dt.date | None = None
    amount_fen: int | None = Field(None, ge=0)


class RowRejected(TongbanError):
    """A row that parsed but cannot be loaded (e.g. it refers to a person who does not exist)."""


# --- bulk lookups for one batch --------------------------------------------------------------

_IN_CHUNK = 500  # values per IN (...) list


def _chunks(values: list[Any]) -> Iterator[list[Any]]:
    for i in range(0, len(values), _IN_CHUNK):
        yield values[i:i + _IN_CHUNK]


class _Lookups:
    """What a batch's rows refer to, fetched with a few IN queries inside the batch's transaction."""

    def __init__(self, session: Session, regions: dict[str, bool]) -> None:
        self.session = session
        self.regions = regions  # kept across batches: region codes do not change during an import
        self.persons: dict[str, int] = {}
        self.households: dict[str, int] = {}

    def load_regions(self, codes: Iterable[str]) -> None:
        todo = sorted({c for c in codes if c not in self.regions})
        for part in _chunks(todo):
            found = set(self.session.scalars(select(Region.code).where(Region.code.in_(part))))
            self.regions.update({c: c in found for c in part})

    def load_persons(self, id_numbers: Iterable[str]) -> None:
        for part in _chunks(sorted({i.upper() for i in id_numbers})):
            rows = self.session.execute(select(Person.id_number, Person.id).where(Person.id_number.in_(part)))
            self.persons.update((number, pid) for number, pid in rows)

    def load_households(self, numbers: Iterable[str]) -> None:
        for part in _chunks(sorted(set(numbers))):
            rows = self.session.execute(select(Household.household_number, Household.id)
                                        .where(Household.household_number.in_(part)))
            self.households.update((number, hid) for number, hid in rows)

    def region(self, code: str, field_name: str) -> None:
        if not self.regions.get(code):
            raise RowRejected(N_("Unknown region code"), field=field_name)

    def person_id(self, id_number: str, field_name: str) -> int:
        validate_resident_id(id_number.upper(), field=field_name)
        pid = self.persons.get(id_number.upper())
        if pid is None:
            raise RowRejected(N_("No person with this ID number is in the registry"), field=field_name)
        return pid


# --- the kinds --------------------------------------------------------------------------------


def _persons_pre(look: _Lookups, rows: list[Any]) -> None:
    look.load_regions(r.region_code for r in rows)


def _person_values(look: _Lookups, row: PersonRow) -> dict[str, Any]:
    validate_resident_id(row.id_number.upper(), field="id_number", birth_date=row.birth_date, sex=row.sex)
    look.region(row.region_code, "region_code")
    if row.death_date is not None and (row.alive or row.death_date < row.birth_date):
        raise RowRejected(N_("The death date does not agree with the record"), field="death_date")
    if (row.disability_type is None) != (row.disability_grade is None):
        raise RowRejected(N_("A disability needs both its type and its grade"), field="disability_grade")
    return {**row.model_dump(), "id_number": row.id_number.upper()}


def _households_pre(look: _Lookups, rows: list[Any]) -> None:
    look.load_regions(r.region_code for r in rows)


def _household_values(look: _Lookups, row: HouseholdRow) -> dict[str, Any]:
    look.region(row.region_code, "region_code")
    return row.model_dump()


def _entities_pre(look: _Lookups, rows: list[Any]) -> None:
    look.load_regions(r.region_code for r in rows)


def _entity_values(look: _Lookups, row: EntityRow) -> dict[str, Any]:
    validate_uscc(row.uscc.upper(), field="uscc")
    look.region(row.region_code, "region_code")
    return {**row.model_dump(), "uscc": row.uscc.upper()}


def _incomes_pre(look: _Lookups, rows: list[Any]) -> None:
    look.load_persons(r.id_number for r in rows)


def _income_values(look: _Lookups, row: IncomeRow) -> dict[str, Any]:
    pid = look.person_id(row.id_number, "id_number")
    return {"person_id": pid, "month": row.month, "source": row.source, "amount_fen": row.amount_fen}


def _enrolments_pre(look: _Lookups, rows: list[Any]) -> None:
    look.load_persons(r.subject_key for r in rows if r.subject_kind == "person")
    look.load_households(r.subject_key for r in rows if r.subject_kind == "household")


def _enrolment_values(look: _Lookups, row: EnrolmentRow) -> dict[str, Any]:
    if row.subject_kind == "person":
        sid = look.person_id(row.subject_key, "subject_key")
    else:
        found = look.households.get(row.subject_key)
        if found is None:
            raise RowRejected(N_("No household with this number is in the registry"), field="subject_key")
        sid = found
    if row.end_date is not None and row.end_date < row.start_date:
        raise RowRejected(N_("The end date is before the start date"), field="end_date")
    return {"subject_kind": row.subject_kind, "subject_id": sid, "benefit_code": row.benefit_code,
            "start_date": row.start_date, "end_date": row.end_date, "amount_fen": row.amount_fen}


@dataclass(frozen=True)
class Kind:
    """One importable kind: its row model, target table, natural key and how rows become values."""

    row: type[_Row]
    table: Table
    key: tuple[str, ...]
    prepare: Callable[[_Lookups, list[Any]], None]
    values: Callable[[_Lookups, Any], dict[str, Any]]

    @property
    def required(self) -> set[str]:
        return {n for n, f in self.row.model_fields.items() if f.is_required()}


def _table(model: type[Any]) -> Table:
    return cast(Table, model.__table__)


KINDS: dict[str, Kind] = {
    "persons": Kind(PersonRow, _table(Person), ("id_number",), _persons_pre, _person_values),
    "households": Kind(HouseholdRow, _table(Household), ("household_number",), _households_pre,
                       _household_values),
    "entities": Kind(EntityRow, _table(LegalEntity), ("uscc",), _entities_pre, _entity_values),
    "incomes": Kind(IncomeRow, _table(IncomeRecord), ("person_id", "month", "source"), _incomes_pre,
                    _income_values),
    "enrolments": Kind(EnrolmentRow, _table(BenefitEnrolment),
                       ("subject_kind", "subject_id", "benefit_code", "start_date"), _enrolments_pre,
                       _enrolment_values),
}


# --- reading ---------------------------------------------------------------------------------


def _frame(path: Path) -> pl.LazyFrame:
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return pl.scan_parquet(path)
    if suffix != ".csv":
        raise Invalid(N_("Import files are CSV or Parquet"), field="file")
    with path.open("rb") as fh:
        head = fh.read(65536)
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # not just a character cut at the end of the sample
            raise Invalid(N_("The CSV file is not UTF-8 (save it as “CSV UTF-8”)"), field="file") from None
    return pl.scan_csv(path, infer_schema=False, encoding="utf8-lossy")


def columns(path: Path) -> list[str]:
    """The file's column names (a UTF-8 byte order mark on the first one is dropped)."""
    return [c.lstrip("\ufeff") for c in _frame(path).collect_schema().names()]


def count_rows(path: Path) -> int:
    return int(_frame(path).select(pl.len()).collect().item())


def read_rows(path: Path, chunk_size: int = 10_000) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, row) pairs, streamed; CSV counts the header as line 1, Parquet rows from 1."""
    frame = _frame(path)
    names = columns(path)
    line = 1 if path.suffix.lower() == ".parquet" else 2
    for chunk in frame.collect_batches(chunk_size=chunk_size):
        for values in chunk.iter_rows():
            yield line, dict(zip(names, values, strict=True))
            line += 1


def check_columns(kind: Kind, names: list[str]) -> list[str]:
    """Stop before anything is written when the header is wrong; return the ignored columns."""
    allowed = set(kind.row.model_fields)
    missing = sorted(kind.required - set(names))
    if missing:
        raise Invalid(N_("A required column is missing"), field=missing[0])
    unknown = [n for n in names if n not in allowed and n not in kind.table.c]
    if unknown:
        raise Invalid(N_("Unknown column"), field=unknown[0])
    return [n for n in names if n not in allowed]


# --- the import loop ---------------------------------------------------------------------------


@dataclass
class Counts:
    loaded: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0

    def add(self, other: Counts) -> None:
        self.loaded += other.loaded
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.rejected += other.rejected


@dataclass
class ImportReport:
    kind: str
    counts: Counts = field(default_factory=Counts)
    reject_file: Path | None = None
    ignored_columns: list[str] = field(default_factory=list)


_VALIDATION_MESSAGES = {
    "missing": N_("This field is required"), "extra_forbidden": N_("Unknown column"),
    "string_pattern_mismatch": N_("This value is not in the expected format"),
    "string_too_long": N_("This value is too long"), "string_too_short": N_("This field is required"),
    "string_type": N_("This value is not in the expected format"),
    "date_from_datetime_parsing": N_("Not a valid date (YYYY-MM-DD)"),
    "date_from_datetime_inexact": N_("Not a valid date (YYYY-MM-DD)"),
    "date_parsing": N_("Not a valid date (YYYY-MM-DD)"), "date_type": N_("Not a valid date (YYYY-MM-DD)"),
    "int_parsing": N_("Enter a whole number"), "int_from_float": N_("Enter a whole number"),
    "int_type": N_("Enter a whole number"), "greater_than_equal": N_("The value is too small"),
    "less_than_equal": N_("The value is too large"), "bool_parsing": N_("Enter true or false"),
    "bool_type": N_("Enter true or false"), **text.VALIDATION_MESSAGES,
}


def row_reason(exc: Exception, locale: str, messages: dict[str, str] = _VALIDATION_MESSAGES) -> tuple[str, str]:
    """(field, message) of a row error in one language, for a reject file (the places import uses
    it too, with its own validation `messages`). Messages never repeat the value."""
    if isinstance(exc, ValidationError):
        err = exc.errors()[0]
        fld = ".".join(str(p) for p in err["loc"]) or "row"
        return fld, gettext(messages.get(err["type"], N_("This value is not valid")), locale)
    if isinstance(exc, TongbanError):
        msg = gettext(exc.message, locale)
        return exc.field or "row", (msg % exc.params if exc.params else msg)
    raise exc


def import_file(
    db: Database, kind: str, path: Path, *, reject_path: Path | None = None, batch_size: int = 1000,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Import one file of `kind`; see the module docstring. Raises `Invalid` (and writes
    nothing) when the kind, the file or its header is wrong."""
    if kind not in KINDS:
        raise Invalid(N_("Unknown import kind"), field="kind")
    if not path.is_file():
        raise Invalid(N_("The file does not exist"), field="file")
    if batch_size < 1:
        raise Invalid(N_("The batch size must be at least 1"), field="batch_size")
    spec = KINDS[kind]
    report = ImportReport(kind=kind, ignored_columns=check_columns(spec, columns(path)))
    reject_path = reject_path or path.with_name(path.stem + ".rejects.csv")
    regions: dict[str, bool] = {}
    seen: dict[tuple[Any, ...], int] = {}  # natural key → first line, for repeated keys in the file
    with reject_path.open("w", newline="", encoding="utf-8") as fh:
        rejects = csv.writer(fh)
        rejects.writerow(["line", "field", "reason_zh", "reason_en"])
        batch: list[tuple[int, dict[str, Any]]] = []
        for line, raw in read_rows(path):
            batch.append((line, {k: v for k, v in raw.items() if k not in report.ignored_columns}))
            if len(batch) >= batch_size:
                _load_batch(db, spec, batch, regions, seen, report.counts, rejects)
                if progress:
                    progress(len(batch))
                batch = []
        if batch:
            _load_batch(db, spec, batch, regions, seen, report.counts, rejects)
            if progress:
                progress(len(batch))
    report.reject_file = reject_path
    if report.counts.rejected == 0:
        reject_path.unlink()
        report.reject_file = None
    return report


def _reject(rejected: list[list[Any]], line: int, exc: Exception) -> None:
    fld, zh = row_reason(exc, "zh_CN")
    _f, en = row_reason(exc, "en")
    rejected.append([line, fld, zh, en])


def _load_batch(db: Database, spec: Kind, batch: list[tuple[int, dict[str, Any]]], regions: dict[str, bool],
                seen: dict[tuple[Any, ...], int], counts: Counts, rejects: Any) -> None:
    """One transaction per batch; counts, rejects and seen keys are kept only when it commits."""
    local = Counts()
    rejected: list[list[Any]] = []
    parsed: list[tuple[int, Any]] = []
    for line, raw in batch:
        try:
            parsed.append((line, spec.row.model_validate({k: v for k, v in raw.items() if not _blank(v)})))
        except ValidationError as exc:
            _reject(rejected, line, exc)
    new_seen: dict[tuple[Any, ...], int] = {}
    with db.unit_of_work() as session:
        look = _Lookups(session, regions)
        spec.prepare(look, [row for _line, row in parsed])
        keyed: dict[tuple[Any, ...], dict[str, Any]] = {}
        for line, row in parsed:
            try:
                values = spec.values(look, row)
                key = tuple(values[k] for k in spec.key)
                first = seen.get(key) or new_seen.get(key)
                if first is not None:
                    raise RowRejected(N_("This row repeats the key of line %(line)s"), field=spec.key[0],
                                      line=first)
            except TongbanError as exc:
                _reject(rejected, line, exc)
                continue
            new_seen[key] = line
            keyed[key] = values
        existing = _existing(session, spec, list(keyed))
        write: list[dict[str, Any]] = []
        for key, values in keyed.items():
            old = existing.get(key)
            if old is None:
                local.loaded += 1
                write.append(values)
            elif any(old[k] != v for k, v in values.items()):
                local.updated += 1
                write.append(values)
            else:
                local.unchanged += 1
        local.rejected = len(rejected)
        write_batch(session, spec, write)
    seen.update(new_seen)
    for r in sorted(rejected, key=lambda r: int(r[0])):
        rejects.writerow(r)
    counts.add(local)


def _existing(session: Session, spec: Kind, keys: list[tuple[Any, ...]]) -> dict[tuple[Any, ...], Any]:
    """The batch's rows already in the table, by natural key."""
    cols = [spec.table.c[k] for k in spec.key]
    found: dict[tuple[Any, ...], Any] = {}
    for part in _chunks(keys):
        cond = cols[0].in_([k[0] for k in part]) if len(cols) == 1 else tuple_(*cols).in_(part)
        for row in session.execute(select(spec.table).where(cond)).mappings():
            found[tuple(row[k] for k in spec.key)] = row
    return found


def write_batch(session: Session, spec: Kind, rows: list[dict[str, Any]]) -> None:
    """Upsert a batch's new and changed rows: one Core `INSERT … ON CONFLICT (natural key) DO
    UPDATE` (tests interrupt imports here)."""
    if not rows:
        return
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    stmt = insert(spec.table)
    update: dict[str, Any] = {c: stmt.excluded[c] for c in rows[0] if c not in spec.key}
    if "updated_at" in spec.table.c:
        update["updated_at"] = utcnow()
    session.execute(stmt.on_conflict_do_update(index_elements=list(spec.key), set_=update), rows)
