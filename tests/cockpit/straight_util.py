"""What the straight checks (`tests/cockpit/straight/`) share: the Shanghai day of a timestamp by
`zoneinfo` (not the SQL the indicators use), and a tally of cells."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from zoneinfo import ZoneInfo

Cells = dict[tuple[dt.date, str, tuple[str, ...]], dict[str, float]]

SHANGHAI = ZoneInfo("Asia/Shanghai")


def day_of(ts: dt.datetime | None) -> dt.date | None:
    if ts is None:
        return None
    if ts.tzinfo is None:  # a raw SQLite value read without the column's type
        ts = ts.replace(tzinfo=dt.UTC)
    return ts.astimezone(SHANGHAI).date()


class Tally:
    """Cells being counted: `add(day, region, key, measure=amount, …)`."""

    def __init__(self, measures: Sequence[str]) -> None:
        self.measures = tuple(measures)
        self.cells: dict[tuple[dt.date, str, tuple[str, ...]], dict[str, float]] = defaultdict(
            lambda: dict.fromkeys(self.measures, 0.0))

    def add(self, day: dt.date, region: str, key: tuple[str, ...], **amounts: float) -> None:
        cell = self.cells[(day, region, tuple("" if k is None else str(k) for k in key))]
        for name, amount in amounts.items():
            cell[name] += float(amount)

    def result(self) -> Cells:
        return dict(self.cells)
