"""Orphan blob sweep: files in the storage that no row refers to.

A material's file is written before its row (the bytes must be checked and stored first); if
the request then fails, its transaction rolls back and the file stays, referenced by nothing.
The sweep removes such blobs once they are older than a grace period (default 24 hours), so a
file whose request is still running, or whose transaction has not committed yet, is never
touched. A column holding blob keys says so with `info={"blob": True}`; the sweep reads every
such column of the metadata, so a new kind of upload needs no change here.

Run periodically by the job `storage.sweep` (daily) and by hand: `tongban storage sweep`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import typer
from sqlalchemy import Column, select
from sqlalchemy.orm import Session

from tongban.core import clock
from tongban.core.jobs.registry import handler, schedule
from tongban.core.storage import LocalStorage, storage_for

JOB_KIND = "storage.sweep"
DEFAULT_GRACE = dt.timedelta(hours=24)
BATCH = 500


@dataclass
class SweepResult:
    checked: int = 0  # blobs looked at
    young: int = 0  # kept: inside the grace period
    referenced: int = 0  # kept: a row refers to them
    removed: int = 0  # orphans deleted (or, in a dry run, that would be)
    temporary: int = 0  # stale temporary files of interrupted writes removed


def blob_columns() -> list[Column[Any]]:
    """Every column marked `info={"blob": True}` in the models (all of them imported)."""
    from tongban.core import slices
    from tongban.core.db import Base

    slices.load_models()  # every table is known

    return [c for t in Base.metadata.sorted_tables for c in t.columns if c.info.get("blob")]


def _referenced(session: Session, columns: list[Column[Any]], keys: list[str]) -> set[str]:
    found: set[str] = set()
    for col in columns:
        found |= {str(k) for k in session.execute(select(col).where(col.in_(keys)).distinct()).scalars()}
    return found


def _batches(items: Iterator[tuple[str, float]], size: int) -> Iterator[list[tuple[str, float]]]:
    batch: list[tuple[str, float]] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def sweep(session: Session, storage: LocalStorage, *, grace: dt.timedelta = DEFAULT_GRACE,
          now: float | None = None, dry_run: bool = False) -> SweepResult:
    """Remove the blobs older than `grace` that no blob column refers to."""
    now = clock.now().timestamp() if now is None else now
    cutoff = now - grace.total_seconds()
    columns = blob_columns()
    result = SweepResult()
    for batch in _batches(storage.iter_blobs(), BATCH):
        result.checked += len(batch)
        old = [key for key, mtime in batch if mtime < cutoff]
        result.young += len(batch) - len(old)
        if not old:
            continue
        referenced = _referenced(session, columns, old)
        result.referenced += len(referenced)
        for key in old:
            if key in referenced:
                continue
            # Written again since it was listed (an upload of the same content): keep it.
            if not dry_run and not storage.delete_if_older(key, cutoff):
                result.young += 1
                continue
            result.removed += 1
    if not dry_run:
        result.temporary = storage.remove_stale_temporaries(cutoff)
    return result


def _storage() -> LocalStorage:
    from tongban.core.config import get_settings

    storage = storage_for(get_settings())
    assert isinstance(storage, LocalStorage)
    return storage


@handler(JOB_KIND)
def run_sweep(session: Session, payload: dict[str, Any]) -> None:
    """Periodic: remove orphan blobs past the grace period (`grace_hours` in the payload)."""
    sweep(session, _storage(), grace=dt.timedelta(hours=float(payload.get("grace_hours", 24))))


schedule(JOB_KIND, JOB_KIND, interval_seconds=24 * 3600)


# --- `tongban storage …` -------------------------------------------------------------------------

app = typer.Typer(help="Uploaded files (blobs).", no_args_is_help=True)


@app.command("sweep")
def sweep_cmd(
    grace_hours: float = typer.Option(24.0, "--grace-hours", min=0.0,
                                      help="Keep blobs younger than this (a request may still be running)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Count what would be removed; remove nothing."),
) -> None:
    """Remove stored files that no row refers to (left by failed requests), older than the grace period."""
    from tongban.core import cliutil

    storage = storage_for(cliutil.settings())
    if not isinstance(storage, LocalStorage):
        cliutil.fail("storage sweep: only the local storage is supported")
    assert isinstance(storage, LocalStorage)
    with cliutil.unit_of_work() as session:
        r = sweep(session, storage, grace=dt.timedelta(hours=grace_hours), dry_run=dry_run)
    verb = "would remove" if dry_run else "removed"
    cliutil.console.print(f"checked {r.checked} blobs: {verb} {r.removed} orphans; kept {r.referenced} referenced "
                          f"and {r.young} younger than {grace_hours:g} h; {r.temporary} stale temporary files removed")
