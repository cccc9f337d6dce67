"""Sealing and verifying the audit chain.

Events are inserted unsealed (seq, prev_hash and hash NULL) in the acting transaction, so
submissions never queue on a shared head row while they hold their own locks. `seal()` links
committed events into the chain in short transactions of its own, one sealer at a time
(PostgreSQL: a transaction-scoped advisory lock; SQLite: the database's write lock), in id
order, giving contiguous sequence numbers from 1. A sealer that finds the lock taken returns
at once: the holder loops until it finds nothing unsealed, so a row committed before the
attempt is always picked up by whoever holds the lock after it (and by the worker's periodic
seal).

Each event's hash is SHA-256 over the previous hash and the canonical serialisation below.
After sealing, a signed checkpoint of the head (seq, hash) is appended to a file outside the
database, so dropping the newest rows — which the chain alone cannot reveal — is caught too.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Engine, bindparam, func, select, update

from tongban.core import clock
from tongban.core.audit.models import AuditEvent, AuditHead
from tongban.core.keys import Keyring

GENESIS = "0" * 64
ADVISORY_KEY = 0x7467_6175_6469_74  # "tgaudit"
FIELDS = ("seq", "at", "actor", "actor_department", "action", "outcome", "subject", "department_id",
          "region_code", "purpose", "details")


def canonical(event: Any, seq: int) -> bytes:
    """The bytes an event's hash covers: its fields as sorted-key JSON, time as ISO UTC with Z.

    `details` is hashed as the exact stored text (already canonical JSON when written).
    """
    at: dt.datetime = event.at
    if at.tzinfo is None:
        at = at.replace(tzinfo=dt.UTC)
    data = {
        "seq": seq,
        "at": at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "actor": event.actor,
        "actor_department": event.actor_department,
        "action": event.action,
        "outcome": event.outcome,
        "subject": event.subject,
        "department_id": event.department_id,
        "region_code": event.region_code,
        "purpose": event.purpose,
        "details": event.details,
    }
    return orjson.dumps(data, option=orjson.OPT_SORT_KEYS)


def link_hash(prev_hash: str, event: Any, seq: int) -> str:
    return hashlib.sha256(prev_hash.encode() + b"\n" + canonical(event, seq)).hexdigest()


# -- checkpoints --------------------------------------------------------------------------


@dataclass
class Checkpointer:
    """Appends signed head checkpoints to a JSON-lines file outside the database."""

    path: Path
    keyring: Keyring
    min_interval: float = 1.0
    _last: tuple[int, float] = (0, 0.0)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def write(self, seq: int, hash_: str, *, force: bool = False) -> bool:
        with self._lock:
            last_seq, last_time = self._last
            now = time.monotonic()
            if seq <= last_seq or (not force and now - last_time < self.min_interval):
                return False
            at = clock.now().strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            kid, sig = self.keyring.sign("audit", _checkpoint_message(seq, hash_, at))
            line = json.dumps({"seq": seq, "hash": hash_, "at": at, "kid": kid, "sig": sig}) + "\n"
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
            try:
                os.write(fd, line.encode())  # one write of one short line: atomic with O_APPEND
            finally:
                os.close(fd)
            self._last = (seq, now)
            return True


def _checkpoint_message(seq: int, hash_: str, at: str) -> bytes:
    return f"tongban-audit-checkpoint\n{seq}\n{hash_}\n{at}".encode()


_checkpointer: Checkpointer | None = None


def configure_checkpoints(settings: Any) -> Checkpointer:
    """Called by the app factory, the CLI and the worker: where checkpoints go, which keys sign."""
    global _checkpointer
    from tongban.core.keys import keyring_for

    path = Path(settings.audit_checkpoint_file)
    if _checkpointer is None or _checkpointer.path != path:
        _checkpointer = Checkpointer(path=path, keyring=keyring_for(settings),
                                     min_interval=settings.audit_checkpoint_interval)
    return _checkpointer


def disable_checkpoints() -> None:
    global _checkpointer
    _checkpointer = None


def read_checkpoints(path: Path) -> Iterator[dict[str, Any]]:
    if not path.exists():
        return
    with path.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            line = line.strip()
            if not line:
                continue
            try:
                cp = json.loads(line)
            except ValueError:
                cp = {"invalid": True}
            cp["line"] = number
            yield cp


# -- sealing -------------------------------------------------------------------------------


def _try_lock(conn: Any) -> bool:
    if conn.dialect.name == "postgresql":
        return bool(conn.execute(select(func.pg_try_advisory_xact_lock(ADVISORY_KEY))).scalar())
    return True  # SQLite: the first write below takes the database's write lock


def seal(engine: Engine, *, batch: int = 1000, checkpoint: bool = True, force_checkpoint: bool = False) -> int:
    """Link every committed unsealed event into the chain; return how many were sealed."""
    total = 0
    head_seq, head_hash = 0, GENESIS
    while True:
        with engine.begin() as conn:
            if not _try_lock(conn):
                break
            if conn.dialect.name == "sqlite":
                # Take the write lock before reading the head, so two sealers cannot both read it.
                conn.execute(update(AuditHead).where(AuditHead.id.is_(True)).values(seq=AuditHead.seq))
            head = conn.execute(select(AuditHead.seq, AuditHead.hash).where(AuditHead.id.is_(True))).one()
            head_seq, head_hash = head.seq, head.hash
            rows = conn.execute(
                select(AuditEvent).where(AuditEvent.seq.is_(None)).order_by(AuditEvent.id).limit(batch)
            ).all()
            if not rows:
                break
            updates = []
            for row in rows:
                head_seq += 1
                new_hash = link_hash(head_hash, row, head_seq)
                updates.append({"b_id": row.id, "b_seq": head_seq, "b_prev": head_hash, "b_hash": new_hash})
                head_hash = new_hash
            conn.execute(
                update(AuditEvent).where(AuditEvent.id == bindparam("b_id"))
                .values(seq=bindparam("b_seq"), prev_hash=bindparam("b_prev"), hash=bindparam("b_hash"))
                .execution_options(synchronize_session=False),
                updates,
            )
            conn.execute(update(AuditHead).where(AuditHead.id.is_(True)).values(seq=head_seq, hash=head_hash))
            total += len(rows)
        if len(rows) < batch and conn.dialect.name == "sqlite":
            break  # SQLite sealers wait for the write lock instead of giving up, so none relies on us
    if checkpoint and _checkpointer is not None and (total or force_checkpoint):
        if force_checkpoint and not total:
            with engine.connect() as conn:
                head = conn.execute(select(AuditHead.seq, AuditHead.hash)).one()
                head_seq, head_hash = head.seq, head.hash
        if head_seq:
            _checkpointer.write(head_seq, head_hash, force=force_checkpoint)
    return total


# -- when to seal ---------------------------------------------------------------------------
# "inline": seal right after each committing unit of work (the CLI, the tests: deterministic).
# "background": a daemon thread per engine seals in batches when poked (the web app: one extra
# commit per batch instead of per request, and no request waits for the seal). A poke is
# answered after GATHER_SECONDS, so under load each seal links the events of many requests.

_mode = "inline"
GATHER_SECONDS = 0.2  # a background sealer waits this long after a poke before sealing
_sealers: dict[int, _BackgroundSealer] = {}
_sealers_lock = threading.Lock()
log = logging.getLogger("tongban.audit")


def set_seal_mode(mode: str) -> None:
    """Choose how events are sealed; going back to inline stops the background sealers."""
    global _mode
    if mode not in ("inline", "background"):
        raise ValueError(f"unknown seal mode {mode!r}")
    _mode = mode
    if mode == "inline":
        with _sealers_lock:
            sealers = list(_sealers.values())
            _sealers.clear()
        for sealer in sealers:
            sealer.stop()


class _BackgroundSealer(threading.Thread):
    def __init__(self, engine: Engine) -> None:
        super().__init__(name="audit-sealer", daemon=True)
        self.engine = engine
        self.wake = threading.Event()
        self.idle = threading.Event()
        self.idle.set()

        self.stopping = False

    def poke(self) -> None:
        self.idle.clear()
        self.wake.set()

    def stop(self) -> None:
        self.stopping = True
        self.wake.set()
        self.join(timeout=5)

    def run(self) -> None:
        while not self.stopping:
            self.wake.wait(timeout=1.0)
            if not self.stopping:
                # Let the commits of a busy moment gather: one seal (two short transactions)
                # then links them all, instead of one seal per request.
                time.sleep(GATHER_SECONDS)
            self.wake.clear()
            try:
                seal(self.engine)
            except Exception:  # keep sealing later; the worker's periodic seal is the backstop
                log.exception("audit seal failed")
            if not self.wake.is_set():
                self.idle.set()


def after_commit(engine: Engine) -> None:
    """Called once per committed unit of work that recorded events."""
    if _mode == "inline":
        seal(engine)
        return
    with _sealers_lock:
        sealer = _sealers.get(id(engine))
        if sealer is None:
            sealer = _sealers[id(engine)] = _BackgroundSealer(engine)
            sealer.start()
    sealer.poke()


def flush(engine: Engine, timeout: float = 5.0) -> None:
    """Wait until the background sealer has sealed what was committed so far (then seal inline)."""
    sealer = _sealers.get(id(engine))
    if sealer is not None:
        sealer.idle.wait(timeout)
    seal(engine)


# -- verifying -----------------------------------------------------------------------------


@dataclass
class Verdict:
    ok: bool
    checked: int
    unsealed: int
    checkpoints: int
    first_bad_seq: int | None = None
    reason: str | None = None
    seconds: float = 0.0
    anchored_to: int = 0  # the newest sequence number a good signed checkpoint vouches for

    def fail(self, seq: int, reason: str) -> None:
        if self.first_bad_seq is None or seq < self.first_bad_seq:
            self.first_bad_seq, self.reason = seq, reason
        self.ok = False


def verify(engine: Engine, *, checkpoint_file: Path | None, keyring: Keyring | None,
           progress: Any = None) -> Verdict:
    """Walk the whole chain in seq order (streamed) and check links, hashes, head and checkpoints."""
    started = time.perf_counter()
    with engine.connect() as conn:
        unsealed = conn.execute(select(func.count()).where(AuditEvent.seq.is_(None))).scalar() or 0
        head = conn.execute(select(AuditHead.seq, AuditHead.hash)).one()
    verdict = Verdict(ok=True, checked=0, unsealed=unsealed, checkpoints=0)

    wanted: dict[int, list[dict[str, Any]]] = {}
    newest_cp = 0
    if checkpoint_file is not None:
        for cp in read_checkpoints(checkpoint_file):
            verdict.checkpoints += 1
            if cp.get("invalid") or not isinstance(cp.get("seq"), int):
                verdict.fail(1, f"checkpoint file line {cp['line']} is unreadable")
                continue
            msg = _checkpoint_message(cp["seq"], str(cp.get("hash")), str(cp.get("at")))
            if keyring is None or not keyring.verify(str(cp.get("kid")), msg, str(cp.get("sig"))):
                verdict.fail(cp["seq"], f"checkpoint at seq {cp['seq']} has a bad signature")
                continue
            wanted.setdefault(cp["seq"], []).append(cp)
            newest_cp = max(newest_cp, cp["seq"])

    expected, prev = 1, GENESIS
    with engine.connect().execution_options(stream_results=True, yield_per=5000) as conn:
        for row in conn.execute(select(AuditEvent).where(AuditEvent.seq.is_not(None)).order_by(AuditEvent.seq)):
            if row.seq != expected:
                verdict.fail(expected, f"sequence number {expected} is missing")
                break
            if row.prev_hash != prev:
                verdict.fail(row.seq, f"event {row.seq} does not link to the event before it")
                break
            if link_hash(prev, row, row.seq) != row.hash:
                verdict.fail(row.seq, f"event {row.seq} was changed")
                break
            for cp in wanted.get(row.seq, []):
                if cp["hash"] != row.hash:
                    verdict.fail(row.seq, f"event {row.seq} differs from the signed checkpoint")
            prev = row.hash
            expected += 1
            verdict.checked += 1
            if progress is not None:
                progress(1)
    last = expected - 1
    verdict.anchored_to = newest_cp
    if verdict.ok:
        if newest_cp > last:
            verdict.fail(last + 1, f"events {last + 1}–{newest_cp} are missing (signed checkpoint at {newest_cp})")
        elif head.seq != last or (last and head.hash != prev):
            verdict.fail(min(head.seq, last) + 1, "the chain's head row does not match its last event")
    verdict.seconds = time.perf_counter() - started
    return verdict
