"""`tongban bench audit`: submissions per second with our audit append (insert unsealed, seal
after commit) beside the calibration app's way (a one-row head locked until COMMIT inside every
submission), on the same database in one run; and the chain's verification rate."""

from __future__ import annotations

import hashlib
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import orjson
import typer
from rich.table import Table
from sqlalchemy import text

from tongban.core.cliutil import EXIT_FAILED, console, fail
from tongban.core.db import Database
from tongban_bench import app

# On PostgreSQL, sealing after commit must not make submissions slower than locking a head row
# inside each one (the calibration app's way): that is why the chain is sealed after commit.
PG_TARGET = 1.0


def _scratch(db: Database) -> None:
    serial = "INTEGER PRIMARY KEY AUTOINCREMENT" if db.is_sqlite else "BIGSERIAL PRIMARY KEY"
    with db.engine.begin() as conn:
        for name in ("bench_naive_audit", "bench_naive_head", "bench_submission"):
            conn.execute(text(f"DROP TABLE IF EXISTS {name}"))  # noqa: S608 - fixed names
        conn.execute(text(f"CREATE TABLE bench_submission (id {serial}, k VARCHAR(40) NOT NULL)"))
        conn.execute(text(f"CREATE TABLE bench_naive_audit (id {serial}, payload TEXT NOT NULL, "
                          "prev_hash CHAR(64) NOT NULL, hash CHAR(64) NOT NULL)"))
        conn.execute(text("CREATE TABLE bench_naive_head (one INTEGER PRIMARY KEY, last_hash CHAR(64) NOT NULL)"))
        conn.execute(text("INSERT INTO bench_naive_head VALUES (1, :h)"), {"h": "0" * 64})
        conn.execute(text("DELETE FROM audit_event"))
        conn.execute(text("UPDATE audit_head SET seq = 0, hash = :h"), {"h": "0" * 64})


NAIVE_HEAD_PG = text("SELECT last_hash FROM bench_naive_head WHERE one = 1 FOR UPDATE")
NAIVE_HEAD_SQLITE = text("SELECT last_hash FROM bench_naive_head WHERE one = 1")


def _naive_submit(db: Database, key: str) -> None:
    with db.engine.begin() as conn:
        conn.execute(text("INSERT INTO bench_submission (k) VALUES (:k)"), {"k": key})
        head = NAIVE_HEAD_SQLITE if db.is_sqlite else NAIVE_HEAD_PG
        prev = conn.execute(head).scalar_one()
        payload = orjson.dumps({"k": key, "action": "application.submit"}, option=orjson.OPT_SORT_KEYS).decode()
        h = hashlib.sha256((prev + payload).encode()).hexdigest()
        conn.execute(text("INSERT INTO bench_naive_audit (payload, prev_hash, hash) VALUES (:p, :ph, :h)"),
                     {"p": payload, "ph": prev, "h": h})
        conn.execute(text("UPDATE bench_naive_head SET last_hash = :h WHERE one = 1"), {"h": h})


def _ours_submit(db: Database, key: str) -> None:
    from tongban.core.audit.log import record

    with db.unit_of_work() as session:
        session.execute(text("INSERT INTO bench_submission (k) VALUES (:k)"), {"k": key})
        record(session, actor="account:1", action="application.submit", details={"k": key})


def _run(db: Database, fn, threads: int, per_thread: int,  # type: ignore[no-untyped-def]
         finish: Callable[[], None] | None = None) -> float:
    """Submissions per second, from the first start to the last join — and, when given, through
    `finish` (our side's final seal: an event counts once it is in the chain, not when inserted)."""

    def work(t: int) -> None:
        for i in range(per_thread):
            fn(db, f"{t}-{i}")

    pool = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
    started = time.perf_counter()
    for th in pool:
        th.start()
    for th in pool:
        th.join()
    if finish is not None:
        finish()
    return threads * per_thread / (time.perf_counter() - started)


def measure(url: str, *, threads: int, events: int) -> dict[str, float]:
    from tongban.core import migrate
    from tongban.core.audit import chain

    db = Database(url, pool_size=threads + 2) if not url.startswith("sqlite") else Database(url)
    migrate.upgrade(db)
    _scratch(db)
    per_thread = max(1, events // threads)
    chain.disable_checkpoints()
    naive = _run(db, _naive_submit, threads, per_thread)
    chain.set_seal_mode("background")
    ours = _run(db, _ours_submit, threads, per_thread, finish=lambda: chain.flush(db.engine))
    chain.set_seal_mode("inline")
    with db.engine.connect() as conn:
        unsealed = conn.execute(text("SELECT count(*) FROM audit_event WHERE seq IS NULL")).scalar_one()
    verdict = chain.verify(db.engine, checkpoint_file=None, keyring=None)
    with db.engine.begin() as conn:
        for name in ("bench_naive_audit", "bench_naive_head", "bench_submission"):
            conn.execute(text(f"DROP TABLE IF EXISTS {name}"))  # noqa: S608 - fixed names
    db.dispose()
    return {"naive": naive, "ours": ours, "verify_rate": verdict.checked / max(verdict.seconds, 1e-9),
            "chain_ok": float(verdict.ok and unsealed == 0), "events": float(verdict.checked)}


@app.command("audit")
def bench_audit(
    url: str = typer.Option("postgresql://postgres@127.0.0.1:5432/tongban_bench",
                            help="A scratch database (its audit tables are emptied)."),
    threads: int = typer.Option(8, min=1),
    events: int = typer.Option(2000, min=1),
    quick: bool = typer.Option(False, help="A small run on a temporary SQLite file (for the test suite)."),
    target: float | None = typer.Option(None, "--target", min=0.0, help="The claim: our submissions/s (final "
                                        "seal included) ÷ the head lock's, at least this (exit 1 below it); "
                                        f"default {PG_TARGET} on PostgreSQL, none on SQLite."),
) -> None:
    """Audit appends per second, ours (final seal included) beside the in-transaction head lock."""
    if quick:
        url = f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.db'}"
        threads, events = 2, 100
    elif url.startswith("postgresql"):
        _ensure_database(url)
    r = measure(url, threads=threads, events=events)
    table = Table(title=f"audit append: {threads} threads × {events // threads} submissions")
    table.add_column("measure")
    table.add_column("tongban (seal after commit)", justify="right")
    table.add_column("head lock until COMMIT (api_calib)", justify="right")
    table.add_column("ratio", justify="right")
    table.add_row("submissions/s", f"{r['ours']:,.0f}", f"{r['naive']:,.0f}", f"{r['ours'] / r['naive']:.2f}×")
    table.add_row("chain verify, events/s", f"{r['verify_rate']:,.0f}", "", "")
    table.add_row("chain valid after run", "yes" if r["chain_ok"] else "NO", "", "")
    console.print(table)
    if not r["chain_ok"]:
        fail("the chain is not valid after the run", EXIT_FAILED)
    ratio = r["ours"] / r["naive"]
    if target is None and url.startswith("sqlite"):
        console.print(f"target: none on SQLite (one writer at a time, no row lock to wait on) — {ratio:.2f}×")
        return
    target = PG_TARGET if target is None else target
    met = ratio >= target
    console.print(f"target: submissions/s ≥ {target:.2f}× the head lock's, final seal included — "
                  f"{ratio:.2f}× ({'met' if met else 'MISSED'})")
    if not met:
        raise typer.Exit(EXIT_FAILED)


def _ensure_database(url: str) -> None:
    import psycopg
    from sqlalchemy.engine import make_url

    u = make_url(url)
    admin = u.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (u.database,)).fetchone():
            conn.execute(f'CREATE DATABASE "{u.database}"')  # noqa: S608 - name from the operator's own URL
