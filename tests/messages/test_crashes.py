"""At-least-once with a stable id: the worker is killed (SIGKILL) before connecting to the SMTP
server, after the server accepted the message, and after recording the delivery; restarted, it
delivers — and the receiver sees exactly one distinct Message-ID, any duplicate carrying it."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select, update

from tests.messages.conftest import channel_env, reachable
from tongban import messages
from tongban.core.jobs.models import Job
from tongban.core.timeutil import utcnow
from tongban.messages import outbox
from tongban.messages.models import Delivery

ROOT = Path(__file__).resolve().parents[2]
PARAMS = {"item": {"zh": "出生一件事", "en": "Birth one-thing"}, "step": {"zh": "已提交", "en": "submitted"}}


def _env(db, tmp_path: Path, smtp, **extra: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    env = {k: v for k, v in os.environ.items() if not k.startswith("TONGBAN_")}
    env.update(TONGBAN_DATABASE_URL=db.url, TONGBAN_DEMO="1", TONGBAN_VAR_DIR=str(tmp_path / "var"),
               PYTHONPATH=str(ROOT), **channel_env(smtp), **extra)
    return env


def _worker(*extra: str) -> list[str]:
    return [sys.executable, "-m", "tongban", "worker", "--lease", "2", "--idle-sleep", "0.1", *extra]


@pytest.mark.slow
@pytest.mark.parametrize("point", ["before_connect", "after_accept", "after_record"])
def test_a_killed_worker_delivers_one_distinct_id(demo, smtp, tmp_path, point) -> None:  # type: ignore[no-untyped-def]
    zhang = reachable(demo, "resident.zhang")
    with demo.unit_of_work() as s:
        [uid] = messages.send(s, to=zhang, kind="application.submitted", params=PARAMS, link="/portal/applications/1")
    with demo.unit_of_work() as s:
        assert outbox.dispatch(s) == 1  # the delivery and its job exist; the worker sends it
    failpoint = {} if point == "after_accept" else {"TONGBAN_MESSAGES_FAILPOINT": point}
    proc = subprocess.Popen(_worker(), env=_env(demo, tmp_path, smtp, **failpoint), cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if point == "after_accept":
        smtp.kill_pid = proc.pid  # the server stores the message, then the worker dies before the reply
    try:
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -9, "the worker was not killed at the point"
    expected = f"<{uid}.email@test.tongban>"
    assert len(smtp.received) == (0 if point == "before_connect" else 1)
    with demo.unit_of_work() as s:
        assert s.scalars(select(Delivery.status)).one() == "queued"  # the killed try recorded nothing
        s.execute(update(Job).where(Job.kind == "messages.deliver", Job.status == "running")
                  .values(lease_until=utcnow() - dt.timedelta(seconds=1)))
    r = subprocess.run(_worker("--once"), env=_env(demo, tmp_path, smtp), cwd=ROOT, capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    ids = smtp.ids()
    assert set(ids) == {expected}, ids  # exactly one distinct id; any duplicate carries it
    assert len(ids) == (1 if point == "before_connect" else 2)
    with demo.unit_of_work() as s:
        d = s.scalars(select(Delivery)).one()
        assert d.status == "sent" and d.external_id == f"{uid}.email"
