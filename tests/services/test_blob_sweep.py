"""The orphan blob sweep: a file whose request failed after it was written is removed once it
is older than the grace period; a file a row refers to, or a young one, is kept; through the
function, the job `storage.sweep` and `tongban storage sweep`."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import time
from pathlib import Path

from tests.services.test_materials import PDF, PNG, draft, upload
from tongban.core import blobs
from tongban.core.jobs import queue, registry
from tongban.core.jobs.worker import Worker
from tongban.core.storage import LocalStorage

ORPHAN = b"%PDF-1.4\n% written, then the request failed\n%%EOF\n"
DAY = 24 * 3600


def _age(storage: LocalStorage, data: bytes, seconds: float) -> str:
    digest = hashlib.sha256(data).hexdigest()
    then = time.time() - seconds
    os.utime(storage._path(digest), (then, then))
    return digest


def test_old_unreferenced_blobs_go_referenced_and_young_ones_stay(client, login, demo, settings) -> None:  # type: ignore[no-untyped-def]
    storage = LocalStorage(Path(settings.var_dir) / "blobs")
    zhang = login("resident.zhang")
    app_id = draft(client, zhang)
    assert upload(client, zhang, app_id, "mat.delivery-record", "record.pdf", PDF).status_code == 201
    kept = _age(storage, PDF, 3 * DAY)  # old, but a material row refers to it
    storage.put(ORPHAN)
    orphan = _age(storage, ORPHAN, 2 * DAY)
    storage.put(PNG)
    young = _age(storage, PNG, 3600)  # its request may still be running
    stale_tmp = storage.root / "ab" / "cd" / ".tmp-crashed"
    stale_tmp.parent.mkdir(parents=True, exist_ok=True)
    stale_tmp.write_bytes(b"half")
    os.utime(stale_tmp, (time.time() - 2 * DAY,) * 2)

    with demo.unit_of_work() as s:
        dry = blobs.sweep(s, storage, dry_run=True)
    assert (dry.checked, dry.removed, dry.referenced, dry.young) == (3, 1, 1, 1)
    assert storage.exists(orphan)  # a dry run removes nothing

    with demo.unit_of_work() as s:
        result = blobs.sweep(s, storage, grace=dt.timedelta(hours=24))
    assert (result.removed, result.referenced, result.young, result.temporary) == (1, 1, 1, 1)
    assert not storage.exists(orphan) and storage.exists(kept) and storage.exists(young)
    assert not stale_tmp.exists()
    got = client.get(f"/api/v1/applications/{app_id}/materials", headers=zhang).json()["items"]
    assert client.get(f"/api/v1/applications/{app_id}/materials/{got[0]['id']}", headers=zhang).content == PDF


def test_an_old_orphan_uploaded_again_is_fresh_and_kept(demo, settings) -> None:  # type: ignore[no-untyped-def]
    storage = LocalStorage(Path(settings.var_dir) / "blobs")
    storage.put(ORPHAN)
    digest = _age(storage, ORPHAN, 2 * DAY)
    assert storage.put(ORPHAN) == digest  # the same content again: its request is running now
    with demo.unit_of_work() as s:
        assert blobs.sweep(s, storage).removed == 0
    assert storage.exists(digest)


def test_the_material_column_is_a_blob_column() -> None:
    assert {f"{c.table.name}.{c.name}" for c in blobs.blob_columns()} == {"svc_application_material.sha256",
                                                                           "case_attachment.sha256"}


def test_the_job_is_scheduled_and_sweeps(demo, settings, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    assert any(s.kind == blobs.JOB_KIND and s.interval_seconds == DAY for s in registry.schedules())
    storage = LocalStorage(Path(settings.var_dir) / "blobs")
    monkeypatch.setattr(blobs, "_storage", lambda: storage)
    storage.put(ORPHAN)
    digest = _age(storage, ORPHAN, 7 * 3600)
    with demo.unit_of_work() as s:
        queue.enqueue(s, kind=blobs.JOB_KIND, payload={"grace_hours": 6})
    assert Worker(demo).run_once() >= 1
    assert not storage.exists(digest)


def test_the_cli_sweeps_and_says_what_it_did(cli, settings) -> None:  # type: ignore[no-untyped-def]
    storage = LocalStorage(Path(settings.var_dir) / "blobs")
    storage.put(ORPHAN)
    digest = _age(storage, ORPHAN, 2 * DAY)
    out = cli("storage", "sweep", "--dry-run")
    assert out.exit_code == 0, out.output
    assert "would remove 1 orphans" in out.output and storage.exists(digest)
    out = cli("storage", "sweep", "--grace-hours", "72")
    assert out.exit_code == 0 and "removed 0 orphans" in out.output and storage.exists(digest)
    out = cli("storage", "sweep")
    assert out.exit_code == 0 and "removed 1 orphans" in out.output and not storage.exists(digest)
