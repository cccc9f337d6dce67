"""The one clock: every "now" (UTC) and "today" (the calendar date in Asia/Shanghai) in tongban
comes from here, so a test sets the time in one place (`frozen`) instead of depending on the
wall clock. Store UTC, show Asia/Shanghai. Durations measured with `time.monotonic()` need no clock.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")

_lock = threading.Lock()
_set: dt.datetime | None = None  # the instant a test set, or None for the wall clock


def now() -> dt.datetime:
    """The current instant, timezone-aware UTC."""
    at = _set
    return at if at is not None else dt.datetime.now(dt.UTC)


def today() -> dt.date:
    """Today's date in Asia/Shanghai (the date on every time limit, certificate and 公示)."""
    return local_date(now())


def local(ts: dt.datetime) -> dt.datetime:
    """A UTC timestamp as Asia/Shanghai wall time."""
    return ts.astimezone(SHANGHAI)


def local_date(ts: dt.datetime) -> dt.date:
    """The Asia/Shanghai calendar date of an aware timestamp."""
    return ts.astimezone(SHANGHAI).date()


def _instant(at: dt.datetime | dt.date) -> dt.datetime:
    if isinstance(at, dt.datetime):
        if at.tzinfo is None:
            # A naive time is ambiguous (host zone? Shanghai? UTC?): refuse it rather than guess.
            raise ValueError("the clock needs an aware datetime")
        return at.astimezone(dt.UTC)
    # A bare date means 10:00 in Shanghai that day: office hours, far from either midnight.
    return dt.datetime(at.year, at.month, at.day, 10, 0, tzinfo=SHANGHAI).astimezone(dt.UTC)


@dataclass
class Frozen:
    """The clock as a test holds it: `set` jumps to an instant, `advance` moves it on."""

    def set(self, at: dt.datetime | dt.date) -> dt.datetime:
        global _set
        with _lock:
            _set = _instant(at)
            return _set

    def advance(self, delta: dt.timedelta) -> dt.datetime:
        global _set
        with _lock:
            _set = (_set or dt.datetime.now(dt.UTC)) + delta
            return _set


@contextmanager
def frozen(at: dt.datetime | dt.date) -> Iterator[Frozen]:
    """Hold the clock at `at` (an aware datetime, or a date meaning 10:00 Shanghai) for the
    block, for every thread of this process (the web app under test runs in another thread)."""
    global _set
    with _lock:
        before = _set
    handle = Frozen()
    handle.set(at)
    try:
        yield handle
    finally:
        with _lock:
            _set = before
