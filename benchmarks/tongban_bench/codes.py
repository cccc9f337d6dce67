"""`tongban bench codes`: codes issued per second — payload, Ed25519 signature and storage (COPY
on PostgreSQL, with one audit event per batch), through `tongban codes issue`'s own bulk path —
beside the bare Ed25519 signing rate on all cores, measured in the same run on the same machine.
The database shares the machine and its CPU counts against us. Exit 1 below the target ratio."""

from __future__ import annotations

import multiprocessing
import tempfile
import time
from pathlib import Path
from typing import Any

import typer
from rich.table import Table
from sqlalchemy import delete, func, select

from tongban.core.cliutil import EXIT_FAILED, console, fail
from tongban.core.db import Database
from tongban_bench import app

TARGET = 0.6  # codes/s ≥ 0.6 × the bare signing rate on all cores
TYPE = "code.rented-flat"  # the largest of the seeds' code types (~500,000 flats)
_KEY: Any = None


def _bare_init(pem: bytes) -> None:
    from cryptography.hazmat.primitives import serialization

    global _KEY
    _KEY = serialization.load_pem_private_key(pem, password=None)


def _bare_sign(task: tuple[int, int]) -> int:
    """Sign payloads of the codes' size and shape; nothing else."""
    start, n = task
    sign = _KEY.sign
    for sid in range(start, start + n):
        sign(b"tongban-code\n1|code.rented-flat|%d|dept.haishu.housing|1780000000|code-20261206000000-abcdef" % sid)
    return n


def bare_rate(count: int, processes: int, batch: int) -> float:
    """Ed25519 signatures per second on `processes` cores (pool start-up inside the timer, as in
    the bulk issue)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    pem = Ed25519PrivateKey.generate().private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                     serialization.NoEncryption())
    tasks = [(i, min(batch, count - i)) for i in range(0, count, batch)]
    started = time.perf_counter()
    if processes == 1:
        _bare_init(pem)
        done = sum(_bare_sign(t) for t in tasks)
    else:
        with multiprocessing.get_context("fork").Pool(processes, initializer=_bare_init, initargs=(pem,)) as pool:
            done = sum(pool.imap_unordered(_bare_sign, tasks))
    return done / (time.perf_counter() - started)


def _prepare(db: Database, count: int) -> None:
    """The demo pack and `count` rented flats (generated, untimed); no codes of the type yet."""
    from tongban.codes import demo_data
    from tongban.codes.models import IssuedCode
    from tongban.core.packs.loader import load_pack
    from tongban_bench.locations import demo_pack

    with db.unit_of_work() as s:
        from tongban.codes.models import CodeType

        if s.get(CodeType, TYPE) is None:
            load_pack(s, demo_pack())
    with db.unit_of_work() as s:
        demo_data.generate(s, {"rented_flat": count})
        s.execute(delete(IssuedCode).where(IssuedCode.type_id == TYPE))


def measure(url: str, *, count: int, processes: int, batch: int, method: str) -> dict[str, float]:
    from tongban.codes import bulk
    from tongban.codes.models import IssuedCode
    from tongban.core import migrate
    from tongban.core.access import Principal
    from tongban.core.keys import Keyring

    db = Database(url)
    migrate.upgrade(db)
    _prepare(db, count)
    keyring = Keyring(Path(tempfile.mkdtemp()) / "keys", demo=True)
    principal = Principal(kind="staff", client_id="bench:codes", department_id="dept.haishu.housing",
                          permissions=frozenset({"task.decide"}))
    bare = bare_rate(count, processes, batch)
    started = time.perf_counter()
    result = bulk.issue_bulk(db, keyring=keyring, principal=principal, type_id=TYPE, processes=processes,
                             batch=batch, limit=count, method=method)
    seconds = time.perf_counter() - started
    with db.unit_of_work() as s:
        stored = s.scalar(select(func.count()).select_from(IssuedCode).where(IssuedCode.type_id == TYPE)) or 0
        s.execute(delete(IssuedCode).where(IssuedCode.type_id == TYPE))
    db.dispose()
    return {"codes": result.issued / seconds, "bare": bare, "seconds": seconds, "issued": float(result.issued),
            "stored": float(stored), "batches": float(result.batches)}


@app.command("codes")
def bench_codes(
    count: int = typer.Option(100_000, "--count", min=1, max=10_000_000, help="Codes to issue."),
    url: str = typer.Option("postgresql://postgres@127.0.0.1:5432/tongban_bench_codes",
                            help="A scratch database (the demo pack is loaded; its flats' codes are deleted)."),
    processes: int | None = typer.Option(None, "--processes", min=1, help="Default: all cores."),
    batch: int | None = typer.Option(None, "--batch", min=100, max=100_000,
                                     help="Codes per batch; default: up to 5,000, at least 8 batches a process."),
    method: str = typer.Option("auto", "--method", help="auto (COPY on PostgreSQL) | copy | insert."),
    quick: bool = typer.Option(False, help="A small run on a temporary SQLite file (for the test suite)."),
    target: float = typer.Option(TARGET, "--target", min=0.0, help="codes/s ÷ bare signatures/s, at least."),
    enforce: bool = typer.Option(False, help="With --quick: fail below the target all the same."),
) -> None:
    """Codes issued per second (payload + signature + storage) beside bare Ed25519 signing on all cores."""
    from tongban.codes.bulk import processes_default

    if method not in ("auto", "copy", "insert"):
        fail("--method: one of auto, copy, insert")
    if quick:
        url = f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.db'}"
        count = min(count, 2000)
    elif url.startswith("postgresql"):
        from tongban_bench.audit import _ensure_database

        _ensure_database(url)
    procs = processes or processes_default()
    batch = batch or max(100, min(5000, count // (procs * 8)))
    r = measure(url, count=count, processes=procs, batch=batch, method=method)
    if r["stored"] != r["issued"] or r["issued"] != count:
        fail(f"{r['issued']:,.0f} codes issued, {r['stored']:,.0f} stored, {count:,} asked", EXIT_FAILED)
    ratio = r["codes"] / r["bare"]
    store = "COPY" if method == "copy" or (method == "auto" and not url.startswith("sqlite")) else "INSERT"
    table = Table(title=f"codes: {count:,} codes on {procs} processes, batches of {batch:,} ({store}, "
                        f"{'PostgreSQL' if url.startswith('postgresql') else 'SQLite'})",
                  caption="codes: payload + Ed25519 + storage + one audit event a batch; "
                          "bare: Ed25519 signing alone on all cores, same run")
    table.add_column("measure")
    table.add_column("codes (sign+store)", justify="right")
    table.add_column("bare Ed25519", justify="right")
    table.add_column("ratio", justify="right")
    table.add_row("per second", f"{r['codes']:,.0f}", f"{r['bare']:,.0f}", f"{ratio:.2f}×")
    table.add_row("time for 1,000,000", f"{1_000_000 / r['codes']:,.1f} s", f"{1_000_000 / r['bare']:,.1f} s", "")
    table.add_row("batches (one audit event each)", f"{r['batches']:,.0f}", "", "")
    console.print(table)
    met = ratio >= target
    console.print(f"target: codes/s ≥ {target:.2f}× the bare signing rate — {ratio:.2f}× ({'met' if met else 'MISSED'})")
    if not met and (enforce or not quick):
        raise typer.Exit(EXIT_FAILED)
