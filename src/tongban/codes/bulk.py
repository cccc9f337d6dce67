"""Bulk issue: sign on every core, store in batches, resume where an interrupted run stopped.

The pending subjects (those of the type's dataset without a code of the type) are cut into
batches; worker processes sign them (each loads the code key once) while the parent stores each
signed batch with its one audit event in one transaction (COPY on PostgreSQL). A run that is
interrupted keeps the batches it committed; the next run finds only the subjects still without a
code, and the unique (type, subject) constraint makes a duplicate impossible.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tongban.codes import service
from tongban.core import clock
from tongban.core.access import Principal
from tongban.core.db import Database
from tongban.core.keys import Keyring

BATCH = 5_000
_KEY: Any = None  # the worker's private key, loaded once by `_init`


def _init(keys_dir: str, kid: str) -> None:
    global _KEY
    _KEY = Keyring(Path(keys_dir)).load_private(kid)


Rows = list[tuple[str, int, str, int, str, str]]


def _sign(task: tuple[str, str, int, str, list[int], bool]) -> tuple[Rows, bytes | None, list[int]]:
    """A worker's batch: the rows — or, for COPY, the block the parent writes as it is (one
    bytes object crosses the process boundary, not thousands of tuples) — and the subjects."""
    type_id, issuer, epoch, kid, subjects, block = task
    rows = service.sign_subjects(_KEY, type_id=type_id, issuer=issuer, epoch=epoch, kid=kid, subjects=subjects)
    return ([], service.copy_block(rows), subjects) if block else (rows, None, subjects)


@dataclass
class Result:
    issued: int
    already: int
    batches: int
    dataset: str


def processes_default() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def issue_bulk(db: Database, *, keyring: Keyring, principal: Principal, type_id: str, dataset_id: str | None = None,
               processes: int | None = None, batch: int = BATCH, limit: int | None = None, method: str = "auto",
               on_start: Callable[[int], None] | None = None,
               progress: Callable[[int], None] | None = None) -> Result:
    """Issue codes of `type_id` to every subject of its dataset that has none (at most `limit`)."""
    from sqlalchemy import func, select

    from tongban.codes.models import IssuedCode
    from tongban.core import access

    with db.unit_of_work() as s:
        access.require(principal, "task.decide")
        ct = service.code_type(s, type_id)
        access.require_department(principal, ct.issuer_department_id)
        ds, table = service.subject_dataset(s, ct, dataset_id)
        pending = service.pending_subjects(s, ct, table, limit=limit)
        already = s.scalar(select(func.count()).select_from(IssuedCode).where(IssuedCode.type_id == ct.id)) or 0
        ct_id, issuer, ds_id = ct.id, ct.issuer_department_id, ds.id
    kid, key = keyring.private_key("code")
    if on_start:
        on_start(len(pending))

    copy = method == "copy" or (method == "auto" and not db.is_sqlite)

    def tasks() -> Iterator[tuple[str, str, int, str, list[int], bool]]:
        for i in range(0, len(pending), batch):
            yield ct_id, issuer, int(clock.now().timestamp()), kid, pending[i:i + batch], copy

    procs = max(1, processes or processes_default())
    issued = batches = 0

    def commit(rows: Rows, block: bytes | None, subjects: list[int]) -> None:
        nonlocal issued, batches
        with db.unit_of_work() as s:
            service.store(s, rows, method="copy" if copy else "insert", block=block)
            service.record_batch(s, actor=principal.actor, ct=s.get_one(service.CodeType, ct_id), dataset_id=ds_id,
                                 kid=kid, subjects=subjects)
        issued += len(subjects)
        batches += 1
        if progress:
            progress(len(subjects))

    if procs == 1 or len(pending) <= batch:
        global _KEY
        _KEY = key
        for task in tasks():
            commit(*_sign(task))
    else:
        ctx = multiprocessing.get_context("fork")
        with ctx.Pool(procs, initializer=_init, initargs=(str(keyring.dir), kid)) as pool:
            for rows, block, subjects in pool.imap(_sign, tasks()):
                commit(rows, block, subjects)
    return Result(issued=issued, already=already, batches=batches, dataset=ds_id)
