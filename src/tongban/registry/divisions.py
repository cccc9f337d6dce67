"""GB/T 2260 administrative division codes (6 digits), current and historical.

Source: the file `stdnum/cn/loc.dat` of the maintained package python-stdnum (LGPL-2.1+),
which its maintainers build from Wikipedia's lists 中华人民共和国行政区划代码 (1区 … 8区).
Each code carries the years it was in force ("[1983-2016]江东区"), changes recorded up to
2025 in python-stdnum 2.2. `SOURCE` names the installed package and version; the newest
year mentioned in the file is `data_year()`.

The rule we apply on purpose: a code is *known* if it exists or ever existed in that list
(an ID number keeps the code it was given, even after the county is merged away).
The synthetic city is stricter and only gives a person a code in force in their birth year
(`DivisionCode.in_force`), the rule python-stdnum's `ric.is_valid` applies.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import metadata, resources

from sqlalchemy import select
from sqlalchemy.orm import Session

from tongban.core.errors import Invalid
from tongban.core.i18n import N_
from tongban.registry.models import Division

PACKAGE = "python-stdnum"
DATA_FILE = "stdnum/cn/loc.dat"
UPSTREAM = "zh.wikipedia.org: 中华人民共和国行政区划代码 (1区–8区)"

_SPAN = re.compile(r"^\[(\d{4})?-(\d{4})?\](.+)$")
_LINE = re.compile(r'^(\s*)(\d+) (?:province|county)="([^"]*)"$')


def package_version() -> str:
    return metadata.version(PACKAGE)


def source() -> str:
    """Where the list comes from, for docs, the CLI output and the audit trail."""
    return f"{PACKAGE} {package_version()} ({DATA_FILE}, from {UPSTREAM})"


@dataclass(frozen=True)
class Span:
    """One name of a code and the years it was in force (None = open)."""

    name: str
    start: int | None
    end: int | None

    def covers(self, year: int) -> bool:
        return (self.start is None or year >= self.start) and (self.end is None or year <= self.end)


@dataclass(frozen=True)
class DivisionCode:
    """A GB/T 2260 code with all its names over time."""

    code: str
    level: str  # province | city | county
    spans: tuple[Span, ...]

    @property
    def name(self) -> str:
        """The latest name."""
        return self.spans[-1].name

    @property
    def valid_from(self) -> int | None:
        starts = [s.start for s in self.spans]
        return None if None in starts else min(s for s in starts if s is not None)

    @property
    def valid_to(self) -> int | None:
        ends = [s.end for s in self.spans]
        return None if None in ends else max(e for e in ends if e is not None)

    @property
    def current(self) -> bool:
        return self.valid_to is None

    def in_force(self, year: int) -> bool:
        return any(s.covers(year) for s in self.spans)


def _level(code: str) -> str:
    if code.endswith("0000"):
        return "province"
    if code.endswith("00"):
        return "city"
    return "county"


def _spans(text: str) -> tuple[Span, ...]:
    spans = []
    for part in text.split(","):
        m = _SPAN.match(part)
        if m:
            spans.append(Span(m.group(3), int(m.group(1)) if m.group(1) else None,
                              int(m.group(2)) if m.group(2) else None))
        else:
            spans.append(Span(part, None, None))
    return tuple(spans)


def _read_data() -> str:
    return resources.files("stdnum").joinpath("cn/loc.dat").read_text(encoding="utf-8")


def parse(text: str) -> dict[str, DivisionCode]:
    """Parse loc.dat: a two-digit province line, then indented four-digit rows under it."""
    codes: dict[str, DivisionCode] = {}
    province = ""
    for lineno, raw in enumerate(text.splitlines(), 1):
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        m = _LINE.match(raw)
        if not m:
            raise ValueError(f"{DATA_FILE}:{lineno}: unexpected line")
        indent, digits, names = m.groups()
        if not indent:
            province = digits
            continue
        code = province + digits
        if len(code) != 6:
            raise ValueError(f"{DATA_FILE}:{lineno}: code is not 6 digits")
        codes[code] = DivisionCode(code=code, level=_level(code), spans=_spans(names))
    return codes


@lru_cache(maxsize=1)
def national() -> dict[str, DivisionCode]:
    """Every GB/T 2260 code, current or historical, by code (parsed once per process)."""
    return parse(_read_data())


@lru_cache(maxsize=1)
def known_codes() -> frozenset[str]:
    """The in-memory set used to validate area codes without the database."""
    return frozenset(national())


def data_year() -> int:
    """The newest year any change in the list mentions: how current the data is."""
    years = [y for d in national().values() for s in d.spans for y in (s.start, s.end) if y]
    return max(years)


def is_known(code: str) -> bool:
    return code in known_codes()


def check_code(code: str, *, field: str = "area_code") -> DivisionCode:
    """The division for a 6-digit code, or Invalid if it never existed in GB/T 2260."""
    if len(code) != 6 or not code.isascii() or not code.isdigit():
        raise Invalid(N_("An area code has 6 digits"), field=field)
    found = national().get(code)
    if found is None:
        raise Invalid(N_("The area code is not in the national division list (GB/T 2260)"), field=field)
    return found


@dataclass(frozen=True)
class LoadResult:
    inserted: int
    updated: int
    unchanged: int
    source: str
    data_year: int
    loaded_on: dt.date


def load(session: Session, *, today: dt.date | None = None) -> LoadResult:
    """Upsert the national list into the `division` table (idempotent: a re-run changes nothing)."""
    from tongban.core.timeutil import today_local

    existing = {d.code: d for d in session.scalars(select(Division))}
    inserted = updated = unchanged = 0
    for code, div in national().items():
        values = {"name": div.name, "level": div.level, "valid_from": div.valid_from, "valid_to": div.valid_to}
        row = existing.get(code)
        if row is None:
            session.add(Division(code=code, **values))
            inserted += 1
        elif any(getattr(row, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(row, k, v)
            updated += 1
        else:
            unchanged += 1
    session.flush()
    return LoadResult(inserted, updated, unchanged, source(), data_year(), today or today_local())
