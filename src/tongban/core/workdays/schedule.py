"""A year's schedule file (the State Council's 放假安排): its model, its checks, storing it (with an
audit event) and the calendar of a database — the library's years plus the loaded ones.

```yaml
year: 2031
holidays:
  - {name: {zh: 元旦, en: New Year's Day}, from: 2031-01-01}
  - {name: {zh: 春节, en: Spring Festival}, from: 2031-01-22, to: 2031-01-28}
workdays: [2031-01-19, 2031-02-08]   # weekend days worked instead (调休)
```
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from tongban.core.audit.log import canonical_json, record
from tongban.core.invalidation import DatabaseCache
from tongban.core.packs.loader import (
    Document,
    PackError,
    PackFile,
    Problem,
    Section,
    parse_yaml,
    validation_problems,
)
from tongban.core.packs.models import Defines, PackModel, SectionFile, Text
from tongban.core.timeutil import WorkCalendar, YearSchedule
from tongban.core.workdays.models import CalendarYear

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


class Holiday(PackModel):
    """A public holiday (法定节假日 with the days joined to it): one day, or `from` … `to` inclusive."""

    name: Text
    from_: dt.date = Field(alias="from")
    to: dt.date | None = None

    @property
    def last(self) -> dt.date:
        return self.to or self.from_

    def days(self) -> Iterator[dt.date]:
        day = self.from_
        while day <= self.last:
            yield day
            day += dt.timedelta(days=1)


class CalendarFile(SectionFile):
    """One year's schedule: its holidays and its adjusted workdays (weekend days worked, 调休)."""

    year: Annotated[int, Defines("calendar-year"), Field(ge=2000, le=2200)]
    holidays: list[Holiday] = Field(min_length=1)
    workdays: list[dt.date] = Field(default_factory=list)


SECTION = Section(name="calendar", model=CalendarFile, files=("calendar/*.yaml", "calendar/*.yml"), apply=None,
                  check=None, order=5, demo_only=False, description="", id_keys=("year",))


def schedule_problems(pf: PackFile) -> Iterator[Problem]:
    """What a model alone cannot see: dates outside the year, overlapping holidays, an adjusted
    workday that is not a weekend day or falls in a holiday, the same workday twice."""
    model: CalendarFile = pf.model
    year = model.year
    spans: list[tuple[dt.date, dt.date, int]] = []
    for i, h in enumerate(model.holidays):
        for key, day in (("from", h.from_), ("to", h.to)):
            if day is not None and day.year != year:
                yield pf.problem(("holidays", i, key), f"holidays[{i}].{key}: {day} is not in {year}")
        if h.to is not None and h.to < h.from_:
            yield pf.problem(("holidays", i, "to"), f"holidays[{i}].to: {h.to} is before 'from' ({h.from_})")
            continue
        for first, last, j in spans:
            if h.from_ <= last and first <= h.last:
                other = model.holidays[j]
                yield pf.problem(("holidays", i, "from"),
                                 f"holidays[{i}] ({h.name.en}, {h.from_} to {h.last}) overlaps holidays[{j}] "
                                 f"({other.name.en}, {first} to {last})")
        spans.append((h.from_, h.last, i))
    seen: dict[dt.date, int] = {}
    for i, day in enumerate(model.workdays):
        at = ("workdays", i)
        if day.year != year:
            yield pf.problem(at, f"workdays[{i}]: {day} is not in {year}")
        if day.weekday() < 5:
            yield pf.problem(at, f"workdays[{i}]: {day} is a {WEEKDAYS[day.weekday()]}, a working day anyway; "
                                 "list only the Saturdays and Sundays worked instead (调休)")
        if day in seen:
            yield pf.problem(at, f"workdays[{i}]: {day} is already listed as workdays[{seen[day]}]")
        seen.setdefault(day, i)
        for first, last, j in spans:
            if first <= day <= last:
                yield pf.problem(at, f"workdays[{i}]: {day} falls in holidays[{j}] ({model.holidays[j].name.en})")


def check_calendar_file(pf: PackFile, _pack: Any) -> Iterator[Problem]:
    return schedule_problems(pf)


def read_schedule_file(path: str | Path) -> CalendarFile:
    """Read and check a schedule file (YAML, or JSON by its `.json` suffix); PackError lists
    every problem with line and field."""
    path = Path(path)
    name = path.name
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PackError([Problem(name, None, None, None, "no such file")]) from None
    except UnicodeDecodeError as exc:
        raise PackError([Problem(name, None, None, None, f"not UTF-8 text ({exc.reason})")]) from None
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise PackError([Problem(name, exc.lineno, exc.colno, None, f"JSON syntax error: {exc.msg}")]) from None
        # The YAML reader gives each key its line (JSON is YAML); if it cannot (tabs), keep the
        # data without positions: every message names its field anyway.
        doc = parse_yaml(text, name)
        if doc.problems or doc.data != data:
            doc = Document(data=data, marks={(): (1, 1)})
    else:
        doc = parse_yaml(text, name)
    pf = PackFile(name, SECTION, doc)
    if doc.problems:
        raise PackError(doc.problems)
    if not isinstance(doc.data, dict):
        raise PackError([Problem(name, 1, 1, None, "the file must be a mapping of keys to values")])
    try:
        pf.model = CalendarFile.model_validate(doc.data)
    except ValidationError as exc:
        raise PackError(list(validation_problems(pf, exc))) from None
    problems = list(schedule_problems(pf))
    if problems:
        raise PackError(problems)
    return pf.model


# --- storing ------------------------------------------------------------------------------


def _stored_form(model: CalendarFile) -> tuple[list[dict[str, Any]], list[str]]:
    holidays = [{"name": h.name.model_dump(), "from": h.from_.isoformat(), "to": h.last.isoformat()}
                for h in sorted(model.holidays, key=lambda h: h.from_)]
    return holidays, sorted(d.isoformat() for d in model.workdays)


Recount = Callable[[Session, int, WorkCalendar], int]
_recounts: list[Recount] = []


def on_schedule_loaded(recount: Recount) -> Recount:
    """Register `recount(session, year, calendar) -> how many things changed`, called after a
    year's schedule is stored: whatever was counted through that year on a Monday–Friday guess
    (the running tasks' due dates) is counted again on the loaded schedule, in the same transaction."""
    if recount not in _recounts:
        _recounts.append(recount)
    return recount


def load_schedule(session: Session, *, schedule: CalendarFile, source: str, actor: str) -> str:
    """Store a checked schedule in `session`'s transaction (the caller commits): created, updated
    (a corrected schedule replaces the year's) or unchanged. A change is a `calendar.load` event,
    and what was counted through the year is counted again (`on_schedule_loaded`)."""
    holidays, workdays = _stored_form(schedule)
    digest = hashlib.sha256(canonical_json({"year": schedule.year, "holidays": holidays,
                                            "workdays": workdays}).encode()).hexdigest()
    row = session.get(CalendarYear, schedule.year)
    if row is not None and row.digest == digest:
        return "unchanged"
    previous = row.digest if row is not None else None
    sources = [s.model_dump(exclude_none=True) for s in schedule.sources]
    if row is None:
        session.add(CalendarYear(year=schedule.year, holidays=holidays, workdays=workdays, digest=digest,
                                 source=source, sources=sources, loaded_by=actor))
    else:
        row.holidays, row.workdays, row.digest, row.source, row.sources, row.loaded_by = (
            holidays, workdays, digest, source, sources, actor)
    session.flush()  # the flush drops this process's calendar snapshot: the next one has the year
    # Features register their recounts beside their pack sections, found on first use.
    from tongban.core.packs.loader import sections

    sections()
    cal = calendar(session)
    recounted = sum(recount(session, schedule.year, cal) for recount in _recounts)
    record(session, actor=actor, action="calendar.load", subject=f"calendar:{schedule.year}",
           details={"year": schedule.year, "digest": digest, "previous_digest": previous, "source": source,
                    "holiday_days": sum(1 for h in schedule.holidays for _ in h.days()),
                    "workdays": len(workdays), "recounted": recounted})
    session.flush()
    return "created" if previous is None else "updated"


def stored_years(session: Session) -> list[CalendarYear]:
    return list(session.scalars(select(CalendarYear).order_by(CalendarYear.year)))


def year_schedule(row: CalendarYear) -> YearSchedule:
    holidays: set[dt.date] = set()
    for h in row.holidays:
        day, last = dt.date.fromisoformat(h["from"]), dt.date.fromisoformat(h["to"])
        while day <= last:
            holidays.add(day)
            day += dt.timedelta(days=1)
    return YearSchedule(row.year, frozenset(holidays), frozenset(dt.date.fromisoformat(d) for d in row.workdays))


# --- what is missing ----------------------------------------------------------------------

# A due date set today can fall this far ahead: 60 working days (the longest statutory limit of
# the demo pack) span about 90 calendar days, Spring Festival included.
DUE_HORIZON = dt.timedelta(days=90)


def missing_years(cal: WorkCalendar, today: dt.date) -> list[int]:
    """The years a due date set `today` can fall in whose schedule is unknown (counted Mon–Fri)."""
    return cal.unknown_years(today, today + DUE_HORIZON)


# --- the calendar of a database -----------------------------------------------------------

RECHECK_SECONDS = 5.0  # another process's load is seen within this time


def _key(session: Session) -> tuple[tuple[int, str], ...]:
    """The loaded years and their digests: loading a year changes it."""
    return tuple((int(y), str(d)) for y, d in session.execute(
        select(CalendarYear.year, CalendarYear.digest).order_by(CalendarYear.year)))


def _load(session: Session, key: tuple[tuple[int, str], ...]) -> WorkCalendar:
    rows = stored_years(session) if key else []
    return WorkCalendar(years={r.year: year_schedule(r) for r in rows})


_CACHE = DatabaseCache("workdays", (CalendarYear,), recheck_seconds=RECHECK_SECONDS, key=_key, load=_load)


def calendar(session: Session) -> WorkCalendar:
    """The working-day calendar for this unit of work: the library's years and the loaded ones
    (held per database and rechecked every few seconds with one small query)."""
    return _CACHE.get(session)
