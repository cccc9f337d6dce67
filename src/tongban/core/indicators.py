"""Indicators: the figures a slice publishes for the cockpit (驾驶舱), and its part of the service history.

The cockpit never reads another slice's tables. Each slice contributes `Indicator`s to the extension
point `INDICATORS` (`"cockpit.indicators"`) — a contribution's target is one `Indicator` or a tuple of
them — and computes its own figures in `compute`. The cockpit keeps them fresh, rolls them up the
region tree and across days, suppresses small cells, scopes them to who is looking and exports them.

**Cells.** `compute(session, *, day_from, day_to)` returns `Cell`s: one per day (Asia/Shanghai
calendar date) × region (the finest GB/T 2260 code the slice knows: community, street or district)
× the indicator's `dimensions` (their values in `Cell.key`, in the order declared). Every measure is
additive — a count or a sum — so a region's figure is the sum of its children's and a period's the
sum of its days'. What is shown is derived from the sums by `show`:

- `"count"`: `of[0]` (e.g. applications);
- `"ratio"`: `of[0] / of[1]` (e.g. on time ÷ decided, 好评率, enrolled ÷ eligible);
- `"mean"`:  `of[0] / of[1]` shown as a mean (e.g. working days ÷ decided).

A `"stock"` indicator is a state, not a flow (the population pyramid, alerts open now, codes by
status): `compute` returns cells of the one day `day_to` only, and the cockpit never sums it across
days. `subjects` names the measure that counts people (or their cases, applications…) in a cell:
the cockpit suppresses a cell where it is small (the data hub's aggregate basis); `None` for an
indicator that counts no one (places, datasets).

A dimension named `"department"` holds a department code: a department head (`cockpit.department`)
sees an indicator's cells of their own department only, and only indicators that have one.

**History.** The service-history generator (`HISTORY`, `"cockpit.history"`) fills a synthetic city
with a past: each slice contributes a `HistoryPart` (its applications with tasks, cases, ratings,
bookings, codes…), run in `order` over one `History` — later parts build on earlier ones (ratings
rate the applications the services part completed). A part writes through its own slice's
functions or tables, returns how many rows it wrote, and must be deterministic for a seed.

This module imports nothing of tongban: every slice may use it."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal, NamedTuple

INDICATORS = "cockpit.indicators"
HISTORY = "cockpit.history"


class Cell(NamedTuple):
    """One day × region × dimension values, with its additive measures."""

    day: date
    region: str
    key: tuple[str, ...]
    values: Mapping[str, float]


@dataclass(frozen=True)
class Indicator:
    """A published figure. `label`, `definition`, `measure_labels` values and `dimension_labels`
    values are msgids (N_), translated where shown."""

    key: str  # "<slice>.<name>", e.g. "services.on_time"
    label: str
    definition: str  # how it is counted, in a sentence a leader understands
    measures: tuple[str, ...]  # the additive measures every cell carries
    show: Literal["count", "ratio", "mean"]
    of: tuple[str, ...]  # the measures `show` reads: (count,) or (numerator, denominator)
    compute: Callable[..., Iterable[Cell]]  # (session, *, day_from: date, day_to: date)
    dimensions: tuple[str, ...] = ()  # beyond day and region, e.g. ("department", "item")
    kind: Literal["flow", "stock"] = "flow"
    subjects: str | None = None  # the measure counting people (suppression), None: counts no one
    unit: str = ""  # msgid of the unit shown after a count or mean (件, 人, 个工作日); "%" for ratios
    measure_labels: Mapping[str, str] | None = None
    dimension_labels: Mapping[str, str] | None = None
    # Optional, added for the cockpit's store (issue #30):
    # `changed(session, *, since: datetime) -> Iterable[date]`: the days whose cells may have changed
    # since `since` (a flow's late events: a task decided today restating the day it was filed).
    # Without it the cockpit recomputes the trailing `lookback_days` of the pack on each refresh.
    changed: Callable[..., Iterable[date]] | None = None
    # `value_labels(session, dimension) -> Mapping[value, label]`: how a dimension's values are shown
    # (an item's title, a domain's name); labels are shown as given. A `department` dimension is
    # named by the cockpit itself; a value without a label is shown as it is.
    value_labels: Callable[..., Mapping[str, str]] | None = None

    def __post_init__(self) -> None:
        if not set(self.of) <= set(self.measures):
            raise ValueError(f"indicator {self.key}: `of` names measures it does not have")
        if len(self.of) != (1 if self.show == "count" else 2):
            raise ValueError(f"indicator {self.key}: show={self.show!r} reads {1 if self.show == 'count' else 2} measures")
        if self.subjects is not None and self.subjects not in self.measures:
            raise ValueError(f"indicator {self.key}: subjects names a measure it does not have")


@dataclass
class History:
    """What the service-history generator hands every part: the database session (the caller
    commits), the seed, the period (inclusive) and the city's size. `rate` scales every part's
    per-person yearly rates (1.0: the rates a real city of this size sees). `notes` collects what
    each part wants later parts to know (e.g. the services part's completed applications).

    `sink`: where a part that can writes its rows (`core.history_sink`: None is the session's
    database; a `ParquetSink` writes Parquet for `tongban cockpit load`). `residents`: who the
    parts draw applicants from — None: the registry's living residents in the session; else a
    callable giving (person id, community) by index (a city written as Parquet)."""

    session: Any
    seed: int
    start: date
    end: date
    persons: int
    rate: float = 1.0
    notes: dict[str, Any] | None = None
    sink: Any = None
    residents: Callable[[], Any] | None = None


@dataclass(frozen=True)
class HistoryPart:
    key: str  # "<slice>.<what>", e.g. "services.applications"
    order: int  # lower first: services 10, cases 20, codes 30, appointments 40, ratings 50
    write: Callable[[History], int]
    # The sinks the part writes through ("db": the session; "parquet": `History.sink` a
    # ParquetSink). A part without "parquet" runs on the database after `tongban cockpit load`.
    sinks: tuple[str, ...] = ("db",)
