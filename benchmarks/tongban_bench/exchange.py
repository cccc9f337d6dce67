"""`tongban bench exchange`: the same query straight from the database and through the exchange
(grant check + masking + audit + data-use index), side by side, on SQLite and PostgreSQL."""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import typer
from rich.table import Table
from sqlalchemy import select, text

from tongban.core.cliutil import EXIT_FAILED, console, fail
from tongban.core.db import Database
from tongban_bench import app
from tongban_bench.locations import demo_pack

TARGET = 2.0  # the exchange costs at most this many times the direct read, at the smallest size
FIELDS = ["id", "id_number", "name", "sex", "birth_date", "phone", "region_code", "marital_status"]
PURPOSE = "低保家庭经济状况核对（基准测试）"


def _prepare(url: str, persons: int) -> tuple[Database, Any]:
    import datetime as dt

    from tongban.core import masking, migrate
    from tongban.core.audit import chain
    from tongban.core.identity import service as identity
    from tongban.core.packs.loader import load_pack
    from tongban.datahub import sharing
    from tongban.datahub.models import Grant, SharingRequest
    from tongban.registry import generator, loader

    if url.startswith("postgresql"):
        from tongban_bench.audit import _ensure_database

        _ensure_database(url)
        db = Database(url)
        with db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    else:
        db = Database(url)
    migrate.upgrade(db)
    masking.configure("bench-secret-key-0123456789abcdef0123")
    chain.disable_checkpoints()
    chain.set_seal_mode("inline")
    with db.unit_of_work() as s:
        load_pack(s, demo_pack())
    config = generator.CityConfig(persons=persons, seed=7, communities=tuple(loader.community_codes(db)),
                                  as_of=dt.date(2026, 6, 30))
    loader.load(db, generator.generate(config))
    with db.unit_of_work() as s:
        client, _secret = identity.create_client(s, client_id="bench-mca", name="bench",
                                                 department_id="dept.haishu.mca", scopes=["exchange.read"])
        req = SharingRequest(dataset_id="ds.person", consumer_department_id="dept.haishu.mca", fields=FIELDS,
                             clear_fields=[], purpose=PURPOSE, legal_basis="bench", period_days=30,
                             requested_by="bench", status="pending")
        s.add(req)
        s.flush()
        sharing.approve_request(s, req, decided_by="bench", reason="bench")
        assert s.scalar(select(Grant.id)) is not None
        principal = identity.principal_for_client(client, "330203")
    return db, principal


def _direct(db: Database, rows: int) -> int:
    from tongban.models import metadata

    person = metadata.tables["person"]
    with db.unit_of_work() as s:
        out = [dict(r._mapping) for r in s.execute(
            select(*[person.c[f] for f in FIELDS]).where(person.c.id > 0).order_by(person.c.id).limit(rows))]
    return len(out)


def _through_exchange(db: Database, principal: Any, rows: int) -> int:
    from tongban.datahub import exchange

    with db.unit_of_work() as s:
        result = exchange.query(s, principal=principal, dataset_id="ds.person", fields=FIELDS, purpose=PURPOSE,
                                limit=rows)
    return len(result.rows)


def _time(fn: Any, repeat: int) -> tuple[float, set[int]]:
    """The median seconds of `repeat` calls (after one to warm up), and the row counts they returned."""
    counts = {fn()}  # warm up
    samples = []
    for _ in range(repeat):
        t = time.perf_counter()
        counts.add(fn())
        samples.append(time.perf_counter() - t)
    return statistics.median(samples), counts


def measure(url: str, sizes: list[int], repeat: int) -> list[tuple[int, float, float, set[int], set[int]]]:
    """Per size: the direct and the exchange's median seconds, and the row counts each returned."""
    from tongban.datahub import exchange

    db, principal = _prepare(url, max(sizes) + 100)
    exchange.rate_limit = exchange.RateLimit(capacity=1e9, per_second=1e9)
    out = []
    for n in sizes:
        direct, direct_rows = _time(lambda n=n: _direct(db, n), repeat)
        via, via_rows = _time(lambda n=n: _through_exchange(db, principal, n), repeat)
        out.append((n, direct, via, direct_rows, via_rows))
    db.dispose()
    return out


@app.command("exchange")
def bench_exchange(
    pg_url: str = typer.Option("postgresql://postgres@127.0.0.1:5432/tongban_bench_exchange",
                               help="A scratch PostgreSQL database (emptied); '' to skip."),
    repeat: int = typer.Option(5, min=1),
    quick: bool = typer.Option(False, help="Small sizes on SQLite only (for the test suite)."),
    target: float = typer.Option(TARGET, "--target", min=0.0, help="The claim: the exchange's time ÷ the direct "
                                 "read's at the smallest size, at most this (exit 1 above it)."),
    enforce: bool | None = typer.Option(None, "--enforce/--no-enforce", help="Exit 1 when the target is missed "
                                        "(default: yes, except with --quick, whose sizes are not the claim's)."),
) -> None:
    """Direct read vs the exchange at 1,000 and 10,000 rows; the exchange should cost ≤ 2× at 1,000.

    Exit 1 when the two return other row counts than asked for (always), or the target is missed
    (unless --quick or --no-enforce)."""
    sizes = [100, 500] if quick else [1000, 10000]
    targets = [("SQLite", f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.db'}")]
    if pg_url and not quick:
        targets.append(("PostgreSQL", pg_url))
    table = Table(title=f"exchange overhead (median of {repeat} calls)")
    for col in ("database", "rows", "direct read", "through the exchange", "ratio", "overhead per call"):
        table.add_column(col, justify="right")
    worst_small = 0.0
    wrong = []
    for name, url in targets:
        for n, direct, via, direct_rows, via_rows in measure(url, sizes, repeat):
            if direct_rows != {n} or via_rows != {n}:
                wrong.append(f"{name}, {n:,} rows asked: direct read returned {sorted(direct_rows)}, "
                             f"the exchange {sorted(via_rows)}")
            ratio = via / direct
            if n == sizes[0]:
                worst_small = max(worst_small, ratio)
            table.add_row(name, f"{n:,}", f"{direct * 1000:.1f} ms", f"{via * 1000:.1f} ms", f"{ratio:.2f}×",
                          f"{(via - direct) * 1000:.1f} ms")
    console.print(table)
    if wrong:
        fail("the two ways read different rows: " + "; ".join(wrong), EXIT_FAILED)
    met = worst_small <= target
    console.print(f"target: ≤ {target:g}× at {sizes[0]:,} rows — worst {worst_small:.2f}× "
                  f"({'met' if met else 'MISSED'}); both ways returned the rows asked for")
    if not met and (not quick if enforce is None else enforce):
        raise typer.Exit(EXIT_FAILED)
    if not met:
        console.print("(not enforced: --quick sizes are not the claim's, or --no-enforce)")
