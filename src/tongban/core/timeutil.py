"""Time: store UTC, show Asia/Shanghai. Working-day arithmetic lives here too (one module)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def local(ts: dt.datetime) -> dt.datetime:
    """A UTC timestamp as Asia/Shanghai wall time."""
    return ts.astimezone(SHANGHAI)


def today_local() -> dt.date:
    return utcnow().astimezone(SHANGHAI).date()
