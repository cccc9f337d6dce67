"""Item 1 of #18: auditing a refusal never blocks the event loop, and is not lost while another
connection holds SQLite's write lock."""

from __future__ import annotations

import sqlite3
import threading
import time

import pytest
from sqlalchemy import func, select

from tests.factories import make_resident, refusal_count, seed_base, token_for
from tongban.core.audit.models import AuditEvent


def _denials(db) -> int:  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        return s.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "access.denied")) or 0


def test_a_denial_while_another_writer_holds_the_lock_stalls_nobody(db, client):  # type: ignore[no-untyped-def]
    if not db.is_sqlite:
        pytest.skip("the stall is SQLite's: one writer at a time")
    with db.unit_of_work() as s:
        seed_base(s)
        make_resident(s, "li.na")
    h = token_for(client, "li.na")
    # The token is now cached: the refusal below needs no query before its audit.
    assert client.get("/api/v1/me/messages", headers=h).status_code == 200

    locked, release = threading.Event(), threading.Event()

    def writer() -> None:  # another request's transaction, holding the write lock ~1.5 s
        conn = sqlite3.connect(db.engine.url.database, isolation_level=None)
        try:
            conn.execute("BEGIN IMMEDIATE")
            locked.set()
            release.wait(5)
            conn.execute("ROLLBACK")
        finally:
            conn.close()

    holder = threading.Thread(target=writer)
    holder.start()
    assert locked.wait(5)
    denied: dict[str, int] = {}
    refused = threading.Thread(target=lambda: denied.update(
        status=client.get("/api/v1/admin/clients", headers=h).status_code))
    refused.start()
    try:
        time.sleep(0.2)  # the refusal is now waiting for the lock
        started = time.monotonic()
        assert client.get("/healthz").status_code == 200
        assert time.monotonic() - started < 0.5
    finally:
        time.sleep(1.0)
        release.set()
        holder.join()
        refused.join(15)
    assert denied["status"] == 403
    deadline = time.monotonic() + 5
    while _denials(db) < 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _denials(db) == 1


def test_a_denial_that_cannot_be_written_is_kept_and_written_with_the_next(db, client, monkeypatch):  # type: ignore[no-untyped-def]
    from tongban.core.audit import log as audit_log
    from tongban.webkit import problems

    with db.unit_of_work() as s:
        seed_base(s)
        make_resident(s, "li.na")
    h = token_for(client, "li.na")
    real = audit_log.record

    def locked(*a, **kw):  # type: ignore[no-untyped-def]
        raise RuntimeError("database is locked")

    monkeypatch.setattr(audit_log, "record", locked)
    assert client.get("/api/v1/admin/clients", headers=h).status_code == 403
    assert _denials(db) == 0 and len(problems._pending) == 1
    monkeypatch.setattr(audit_log, "record", real)
    assert client.get("/api/v1/admin/clients", headers=h).status_code == 403
    assert not problems._pending
    assert _denials(db) == 1  # the kept one opened its window; the next was counted into it
    assert refusal_count(db) == 2
