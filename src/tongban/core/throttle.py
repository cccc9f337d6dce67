"""Brute-force throttling, counted with the `limits` library.

Failed logins are counted per account *and* source address, with back-off (several windows, each
longer and wider than the last), and per source across all accounts. Nothing a stranger does can
lock somebody else out: the owner, signing in from their own address, is never counted with the
stranger's failures. Requests refused 401 (nobody signed in) are counted per source too, and
answered 429 past `ANONYMOUS`. The counters live in `TONGBAN_RATE_LIMIT_STORAGE`: `memory://` for one
process, `redis://host:6379` when several processes serve the same site (they must share them).
"""

from __future__ import annotations

import math
import time

from limits import RateLimitItem, parse_many
from limits.storage import Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

from tongban.core.errors import TooManyRequests
from tongban.core.i18n import N_

# Back-off for one account from one source: 5 a minute, then 10 in 15 minutes, then 20 a day.
ACCOUNT_SOURCE = parse_many("5/minute;10/15 minutes;20/day")
# One source hammering many accounts.
SOURCE = parse_many("30/minute;200/hour")
# Requests refused 401 (nobody signed in) from one source: a stranger probing URLs or ids
# (the default of `TONGBAN_ANONYMOUS_RATE_LIMIT`).
ANONYMOUS = parse_many("60/minute;600/hour")


class RateLimited(TooManyRequests):
    def __init__(self, retry_after: int, message: str = N_("Too many failed attempts from here; try again later")) -> None:
        super().__init__(message)
        self.retry_after = max(1, retry_after)


class Throttle:
    def __init__(self, uri: str, *, anonymous: str | None = None) -> None:
        self.uri = uri
        self.anonymous = parse_many(anonymous) if anonymous else ANONYMOUS
        storage = storage_from_string(uri)
        if not isinstance(storage, Storage):  # an async:// URI: the login path is synchronous
            raise ValueError(f"rate limit storage must be synchronous: {uri!r}")
        self.storage = storage
        self.limiter = MovingWindowRateLimiter(self.storage)

    def _checks(self, *, account: str, source: str) -> list[tuple[RateLimitItem, tuple[str, ...]]]:
        return ([(item, ("login", account, source)) for item in ACCOUNT_SOURCE]
                + [(item, ("login-source", source)) for item in SOURCE])

    def check_login(self, *, account: str, source: str) -> None:
        """Raise `RateLimited` (429, with how long to wait) if this source may not try now."""
        wait = 0.0
        for item, keys in self._checks(account=account, source=source):
            if not self.limiter.test(item, *keys):
                reset = self.limiter.get_window_stats(item, *keys).reset_time
                wait = max(wait, reset - time.time())
        if wait > 0:
            raise RateLimited(math.ceil(wait))

    def failed_login(self, *, account: str, source: str) -> None:
        for item, keys in self._checks(account=account, source=source):
            self.limiter.hit(item, *keys)

    def refused_anonymous(self, *, source: str) -> None:
        """Count one 401 for `source`; raise `RateLimited` once it has had too many (its 401s
        are then answered 429 with how long to wait). Nothing is written anywhere else: an
        anonymous refusal is never audited, so a stranger cannot fill the audit chain either."""
        wait = 0.0
        for item in self.anonymous:
            if not self.limiter.hit(item, "anonymous-401", source):
                reset = self.limiter.get_window_stats(item, "anonymous-401", source).reset_time
                wait = max(wait, reset - time.time())
        if wait > 0:
            raise RateLimited(math.ceil(wait), N_("Too many requests from here; try again later"))

    def succeeded_login(self, *, account: str, source: str) -> None:
        """The owner got in from here: their own earlier slips no longer count against them."""
        for item in ACCOUNT_SOURCE:
            self.limiter.clear(item, "login", account, source)
