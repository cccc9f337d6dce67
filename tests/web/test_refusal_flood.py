"""Item 5 of #18: a flood of refusals does not write a chained audit row each. A signed-in
caller's refusals are coalesced per actor, action and minute (one chained event when the window
opens, one with the count when it closes); a stranger's 401s are throttled per source (429 with
Retry-After) and never audited."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import func, select

from tests.factories import make_resident, seed_base, token_for
from tongban.core.audit import chain
from tongban.core.audit.denials import close_expired, open_counts
from tongban.core.audit.models import AuditDenialWindow, AuditEvent
from tongban.core.throttle import ANONYMOUS


def _denials(db) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        return [{"actor": e.actor, **json.loads(e.details)} for e in s.scalars(
            select(AuditEvent).where(AuditEvent.action == "access.denied").order_by(AuditEvent.id))]


def _rows(db) -> int:  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        return s.scalar(select(func.count()).select_from(AuditEvent)) or 0


def test_a_flood_of_refusals_is_a_few_chained_rows_with_the_right_counts(db, client, clock, cli):  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        seed_base(s)
        make_resident(s, "li.na")
    h = token_for(client, "li.na")
    clock.set(dt.datetime(2025, 6, 11, 2, 0, 5, tzinfo=dt.UTC))
    before = _rows(db)
    flood = 40
    for _ in range(flood):
        assert client.get("/api/v1/admin/clients", headers=h).status_code == 403
    # One chained row for the whole minute so far; the rest are counted outside the chain.
    assert _rows(db) - before == 1
    [first] = _denials(db)
    assert first["count"] == 1 and first["needed"] == "platform.admin" and first["path"] == "/api/v1/admin/clients"
    with db.unit_of_work() as s:
        assert open_counts(s) == flood - 1
    # Another action in the same minute is a window of its own.
    assert client.get("/api/v1/admin/audit/events", headers=h).status_code in (403, 404)
    # The next minute: the next refusal closes the old window with one event carrying its count.
    clock.advance(dt.timedelta(seconds=60))
    for _ in range(3):
        assert client.get("/api/v1/admin/clients", headers=h).status_code == 403
    events = [e for e in _denials(db) if e["needed"] == "platform.admin"]
    assert [(e["count"], e.get("coalesced", False)) for e in events] == [(1, False), (flood - 1, True), (1, False)]
    assert events[1]["window"] == "2025-06-11T02:00:00+00:00" and events[2]["window"] == "2025-06-11T02:01:00+00:00"
    # The periodic job closes what is left once its minute is over, and writes nothing twice.
    clock.advance(dt.timedelta(seconds=60))
    with db.unit_of_work() as s:
        close_expired(s)
    with db.unit_of_work() as s:
        close_expired(s)
        assert s.scalar(select(func.count()).select_from(AuditDenialWindow)) == 0
    refused = [e for e in _denials(db) if e["needed"] == "platform.admin"]
    assert sum(e["count"] for e in refused) == flood + 3
    assert len(refused) == 4  # 43 refusals, 4 chained rows
    # The chain is append-only and intact.
    chain.seal(db.engine, force_checkpoint=True)
    verdict = cli("audit", "verify")
    assert verdict.exit_code == 0, verdict.output


def test_a_window_with_one_refusal_closes_without_a_second_event(db, clock) -> None:  # type: ignore[no-untyped-def]
    from tongban.core.audit.denials import record_refusal

    at = dt.datetime(2025, 6, 11, 2, 0, 5, tzinfo=dt.UTC)
    with db.unit_of_work() as s:
        assert record_refusal(s, actor="account:7", actor_department=None, needed="x.y", details={}, now=at)
    with db.unit_of_work() as s:
        assert close_expired(s, now=at + dt.timedelta(minutes=1)) == 0
        assert s.scalar(select(func.count()).select_from(AuditDenialWindow)) == 0
    assert [e["count"] for e in _denials(db)] == [1]


def test_anonymous_401s_are_throttled_per_source_with_retry_after(db, client):  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        seed_base(s)
    before = _rows(db)
    allowed = min(item.amount for item in ANONYMOUS)
    for _ in range(allowed):
        assert client.get("/api/v1/applications/1").status_code == 401
    r = client.get("/api/v1/applications/1")
    assert r.status_code == 429, r.text
    assert r.json()["type"].endswith("/rate-limited")
    assert 0 < int(r.headers["Retry-After"]) <= 60
    assert client.post("/api/v1/applications", json={}).status_code == 429  # any 401, not one URL
    assert _rows(db) == before  # nothing a stranger does writes an audit row
    # Signing in is not a 401: the throttled source can still log in and be served.
    with db.unit_of_work() as s:
        make_resident(s, "li.na")
    h = token_for(client, "li.na")
    assert client.get("/api/v1/me/messages", headers=h).status_code == 200
