"""Load and crash (issue #20): real `tongban serve` and `tongban worker` processes under concurrent
one-thing submissions with Idempotency-Keys, prefill consents, form reads and portal reads; the
server and the worker are SIGKILLed mid-load and started again, and every request that got no
answer is sent again with its key, as a resident's phone would. Afterwards:

- the applications are exactly the accepted keys: one per key, the id each answer named;
- every application has its tasks, its `submitted` timeline event and its one audit event;
- every job ran to `done` and its effect happened once (the data-use index of each prefill read:
  one row per subject of the read, none missing, none twice);
- `tongban audit verify` passes.

Loopback only and bounded in count and time. On the SQLite leg a light run (one crash); on the
PostgreSQL leg the heavy one (more clients and keys, two crashes).
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from tests.live import ON_PG, live_url
from tests.services.conftest import birth_data
from tongban import testing
from tongban.core.db import Database

pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class Plan:
    submissions: int  # idempotency keys, each one birth one-thing
    submitters: int  # concurrent clients submitting
    crashes: int  # SIGKILLs of the server (and the worker) spread over the submissions
    deadline: float  # seconds the whole load may take


LIGHT = Plan(submissions=36, submitters=3, crashes=1, deadline=150)
HEAVY = Plan(submissions=120, submitters=6, crashes=2, deadline=300)


@dataclass
class Tally:
    accepted: dict[str, int] = field(default_factory=dict)  # key → the application id answered
    resent: int = 0  # requests sent again after no answer
    statuses: Counter[str] = field(default_factory=Counter)
    unexpected: list[str] = field(default_factory=list)
    form_reads: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def bad(self, what: str) -> None:
        with self.lock:
            self.unexpected.append(what)


def _token(base: str, username: str) -> dict[str, str]:
    resp = httpx.post(base + "/api/v1/auth/token", data={"username": username, "password": testing.DEMO_PASSWORD},
                      timeout=60)
    resp.raise_for_status()
    return {"Authorization": f"Bearer {resp.json()['access_token']}"}


def _until_answered(http: httpx.Client, tally: Tally, stop_at: float, method: str, path: str,
                    **kwargs: Any) -> httpx.Response | None:
    """Send until an answer comes (the same request each time: the same key, the same body)."""
    first = True
    while time.monotonic() < stop_at:
        if not first:
            with tally.lock:
                tally.resent += 1
        first = False
        try:
            resp = http.request(method, path, **kwargs)
        except httpx.TransportError:  # refused, reset, or cut off mid-answer: the server died
            time.sleep(0.2)
            continue
        with tally.lock:
            tally.statuses[f"{method} {path.split('?')[0]} {resp.status_code}"] += 1
        if resp.status_code >= 500:
            tally.bad(f"{method} {path}: {resp.status_code} {resp.text[:300]}")
        return resp
    tally.bad(f"{method} {path}: no answer before the deadline")
    return None


def _submitter(base: str, headers: dict[str, str], keys: list[str], tally: Tally, stop_at: float) -> None:
    body = {"onething_id": "onething.birth", "data": birth_data()}
    with httpx.Client(base_url=base, timeout=30) as http:
        for key in keys:
            resp = _until_answered(http, tally, stop_at, "POST", "/api/v1/applications",
                                   headers={**headers, "Idempotency-Key": key}, json=body)
            if resp is None:
                return
            if resp.status_code not in (200, 201):
                tally.bad(f"submission {key}: {resp.status_code} {resp.text[:300]}")
                continue
            app_id = resp.json()["id"]
            with tally.lock:
                if tally.accepted.setdefault(key, app_id) != app_id:
                    tally.unexpected.append(f"key {key} answered {tally.accepted[key]} and {app_id}")


def _consents_and_forms(base: str, headers: dict[str, str], tally: Tally, done: threading.Event,
                        stop_at: float) -> None:
    """A prefill consent, then the form read with it (an exchange read: an audit event and a
    data-use job), again and again while the submissions run."""
    with httpx.Client(base_url=base, timeout=30, headers=headers) as http:
        while not done.is_set():
            resp = _until_answered(http, tally, stop_at, "POST", "/api/v1/onethings/onething.birth/consent")
            if resp is None:
                return
            if resp.status_code != 201:
                tally.bad(f"consent: {resp.status_code} {resp.text[:300]}")
                return
            consent = resp.json()["consent_id"]
            resp = _until_answered(http, tally, stop_at, "GET",
                                   f"/api/v1/onethings/onething.birth/form?consent_id={consent}")
            if resp is None:
                return
            if resp.status_code != 200:
                tally.bad(f"form: {resp.status_code} {resp.text[:300]}")
                return
            with tally.lock:
                tally.form_reads += 1


def _portal_reader(base: str, headers: dict[str, str], tally: Tally, done: threading.Event, stop_at: float) -> None:
    paths = ["/api/v1/me/applications?limit=20", "/api/v1/onethings", "/api/v1/me/messages", "/api/v1/me"]
    with httpx.Client(base_url=base, timeout=30, headers=headers) as http:
        i = 0
        while not done.is_set():
            resp = _until_answered(http, tally, stop_at, "GET", paths[i % len(paths)])
            if resp is None:
                return
            if resp.status_code != 200:
                tally.bad(f"GET {paths[i % len(paths)]}: {resp.status_code} {resp.text[:300]}")
            i += 1


def _wait_for_jobs(db: Database, seconds: float) -> list[Any]:
    """Wait until no job is queued or running (the periodic ones aside); the jobs left over."""
    deadline = time.monotonic() + seconds
    while True:
        with db.engine.connect() as conn:
            left = conn.execute(text(
                "SELECT id, kind, status FROM job WHERE status IN ('queued', 'running') "
                "AND kind NOT IN ('audit.seal', 'jobs.purge', 'services.public_notice', 'deadlines.warn') "
                "AND dedupe_key IS NULL")).all()
        if not left or time.monotonic() > deadline:
            return list(left)
        time.sleep(0.5)


def _run(tmp_path: Path, plan: Plan) -> None:
    url = live_url(tmp_path, "crash")
    var = tmp_path / "var"
    testing.prepare(url, var)
    # A short lease: the job a killed worker held comes back within seconds, not five minutes.
    live = testing.LiveServer(url, var, worker_args=("--lease", "3"))
    db = Database(url)
    try:
        live.start()
        resident = _token(live.base, "resident.zhang")
        reader = _token(live.base, "resident.li")
        run = uuid.uuid4().hex[:8]
        keys = [f"crash-{run}-{i}" for i in range(plan.submissions)]
        tally = Tally()
        done = threading.Event()
        stop_at = time.monotonic() + plan.deadline
        threads = [threading.Thread(target=_submitter, args=(live.base, resident, keys[i::plan.submitters], tally,
                                                             stop_at)) for i in range(plan.submitters)]
        threads.append(threading.Thread(target=_consents_and_forms, args=(live.base, reader, tally, done, stop_at)))
        threads += [threading.Thread(target=_portal_reader, args=(live.base, who, tally, done, stop_at))
                    for who in (resident, reader)]
        for t in threads:
            t.start()
        # Crash at evenly spread points of the submissions: the server mid-request, the worker mid-poll.
        for n in range(1, plan.crashes + 1):
            mark = plan.submissions * n // (plan.crashes + 1)
            while len(tally.accepted) < mark and time.monotonic() < stop_at and not tally.unexpected:
                time.sleep(0.02)
            live.kill_server()
            live.kill_worker()
            time.sleep(0.5)
            live.start_server()
            live.start_worker()
        for t in threads[:plan.submitters]:
            t.join(max(1.0, stop_at - time.monotonic()))
        done.set()
        for t in threads:
            t.join(max(1.0, stop_at - time.monotonic()))
        assert not tally.unexpected, "\n".join(tally.unexpected[:20]) + f"\n{live.log()[-3000:]}"
        assert set(tally.accepted) == set(keys), f"{len(tally.accepted)} of {len(keys)} keys accepted"
        assert tally.resent > 0, "no request was in flight at a crash: the test proved nothing"
        assert tally.form_reads > 0

        left = _wait_for_jobs(db, 60)
        assert not left, f"jobs never finished after the crashes: {left}"
        with db.engine.connect() as conn:
            apps = conn.execute(text(
                "SELECT a.id, a.idempotency_key, a.status FROM svc_application a "
                "WHERE a.idempotency_key LIKE :p"), {"p": f"crash-{run}-%"}).all()
            by_key = {k: i for i, k, _ in apps}
            assert len(apps) == len(by_key) == len(keys), "an application was made twice for one key"
            assert by_key == tally.accepted, "an answer named another application than the one stored"
            assert {s for *_, s in apps} == {"submitted"}
            ids = list(by_key.values())
            tasks = Counter(r[0] for r in conn.execute(text(
                "SELECT application_id FROM svc_task WHERE application_id IN (SELECT id FROM svc_application "
                "WHERE idempotency_key LIKE :p)"), {"p": f"crash-{run}-%"}))
            assert set(tasks) == set(ids) and len(set(tasks.values())) == 1 and min(tasks.values()) > 0, (
                f"applications without their tasks, or with a different number: {tasks}")
            events = Counter(r[0] for r in conn.execute(text(
                "SELECT application_id FROM svc_application_event WHERE kind = 'submitted' AND application_id IN "
                "(SELECT id FROM svc_application WHERE idempotency_key LIKE :p)"), {"p": f"crash-{run}-%"}))
            assert events == Counter(ids), "a submitted application's timeline event is missing or doubled"
            audited = Counter(r[0] for r in conn.execute(text(
                "SELECT subject FROM audit_event WHERE action = 'application.submit'")))
            assert audited == Counter(f"application:{i}" for i in ids), "an audit event is missing or doubled"
            # Each prefill read's data-use job: done, its effect there exactly once per subject.
            jobs = conn.execute(text("SELECT id, status, payload FROM job WHERE kind = 'datahub.data_use'")).all()
            assert len(jobs) >= tally.form_reads and {s for _, s, _ in jobs} == {"done"}, jobs
            uses = Counter((e, s) for e, s in conn.execute(text("SELECT audit_event_id, subject FROM data_use")))
            assert max(uses.values()) == 1, "a data-use row was written twice"
            used_events = Counter(e for e, _ in uses)
            import json

            for _, _, payload in jobs:
                p = payload if isinstance(payload, dict) else json.loads(payload)
                assert used_events[p["event_id"]] == len(p["subjects"]), f"data-use job {p} took effect wrongly"
            assert len(used_events) == len(jobs)
        live.stop()
        verify = subprocess.run([sys.executable, "-m", "tongban", "audit", "verify", "--seal"], env=live.env,  # noqa: S603
                                capture_output=True, text=True, timeout=300, check=False)
        assert verify.returncode == 0, verify.stdout + verify.stderr
        assert "audit chain intact" in verify.stdout
        print(f"load and crash: {len(keys)} keys, {plan.crashes} crashes, {tally.resent} requests re-sent, "
              f"{tally.form_reads} form reads, {len(jobs)} data-use jobs; {dict(tally.statuses)}")
    finally:
        live.stop()
        db.dispose()


def test_load_and_crash(tmp_path: Path) -> None:
    """Light on SQLite; the heavy run on the PostgreSQL leg."""
    _run(tmp_path, HEAVY if ON_PG else LIGHT)
