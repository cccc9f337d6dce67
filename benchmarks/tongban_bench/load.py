"""`tongban bench load`: a mixed portal load on loopback for a given time — one-thing submissions
with Idempotency-Keys, prefill consents with the form read they unlock, and portal reads — with
p50/p99 per operation, throughput and errors; beside it, in the same run, the calibration app's
submit rate (`api_calib`, see `services.py`) on the same PostgreSQL server, with the same clients.

tongban runs as an operator runs it (`tongban serve` and `tongban worker`, started by
`tongban.testing`), on a fresh SQLite or PostgreSQL database with the demo and a synthetic city.
"""

from __future__ import annotations

import asyncio
import random
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from tongban import testing
from tongban.core.cliutil import console, fail
from tongban_bench import app
from tongban_bench.clients import swarm
from tongban_bench.locations import ANCHORS_ENV
from tongban_bench.services import CALIB, SECRET, Calibration, _scratch, _token, birth_form, calib_dir

OPERATIONS = ("submit", "consent", "form", "portal")
DEFAULT_MIX = "submit=2,consent=1,form=1,portal=6"
PORTAL_PATHS = ("/api/v1/me/applications?limit=20", "/api/v1/onethings", "/api/v1/me/messages", "/api/v1/me")


def parse_mix(text: str) -> dict[str, int]:
    """`submit=2,consent=1,form=1,portal=6` → weights; refused (exit 2) naming what is wrong."""
    mix: dict[str, int] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, _, weight = part.partition("=")
        if name not in OPERATIONS or not weight.isdigit():
            fail(f"--mix: '{part}' is not OPERATION=WEIGHT with OPERATION one of {', '.join(OPERATIONS)}")
        mix[name] = int(weight)
    if not any(mix.values()):
        fail("--mix: give at least one operation a weight above 0")
    return mix


@dataclass
class Op:
    latencies: list[float] = field(default_factory=list)  # seconds, answered below 400
    errors: int = 0
    statuses: dict[int, int] = field(default_factory=dict)

    def quantile(self, q: float) -> float | None:
        if not self.latencies:
            return None
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


@dataclass
class Load:
    ops: dict[str, Op]
    seconds: float

    @property
    def answered(self) -> int:
        return sum(len(o.latencies) + o.errors for o in self.ops.values())

    @property
    def errors(self) -> int:
        return sum(o.errors for o in self.ops.values())


class Portal:
    """The mix's operations against one tongban: each returns (method, path, headers, json body)
    or, for a form read, first needs its consent."""

    def __init__(self, base: str, run: str) -> None:
        self.base = base
        self.run = run
        self.resident = _token(base, "resident.zhang")
        self.reader = _token(base, "resident.li")
        self.form = birth_form()
        self.consents: list[int] = []

    async def one(self, http: Any, op: str, i: int) -> Any:
        if op == "submit":
            return await http.post("/api/v1/applications", json={"onething_id": "onething.birth", "data": self.form},
                                   headers={**self.resident, "Idempotency-Key": f"load-{self.run}-{i}"})
        if op == "consent":
            resp = await http.post("/api/v1/onethings/onething.birth/consent", headers=self.reader)
            if resp.status_code == 201:
                self.consents.append(resp.json()["consent_id"])
            return resp
        if op == "form":
            consent = f"?consent_id={self.consents[-1]}" if self.consents else ""
            return await http.get(f"/api/v1/onethings/onething.birth/form{consent}", headers=self.reader)
        return await http.get(PORTAL_PATHS[i % len(PORTAL_PATHS)], headers=self.resident if i % 2 else self.reader)


async def _drive(portal: Portal, mix: dict[str, int], *, clients: int, seconds: float, seed: int) -> Load:
    import httpx

    rng = random.Random(seed)
    names = [n for n in OPERATIONS if mix.get(n)]
    weights = [mix[n] for n in names]
    load = Load(ops={n: Op() for n in names}, seconds=0.0)
    counter = iter(range(10**9))
    deadline = time.perf_counter() + seconds

    async def client(http: Any) -> None:
        while time.perf_counter() < deadline:
            op = rng.choices(names, weights)[0]
            i = next(counter)
            started = time.perf_counter()
            try:
                resp = await portal.one(http, op, i)
            except httpx.HTTPError:
                load.ops[op].errors += 1
                continue
            elapsed = time.perf_counter() - started
            stats = load.ops[op]
            stats.statuses[resp.status_code] = stats.statuses.get(resp.status_code, 0) + 1
            if resp.status_code < 400:
                stats.latencies.append(elapsed)
            else:
                stats.errors += 1

    load.seconds = await swarm(portal.base, [client] * clients)
    return load


def drive(portal: Portal, mix: dict[str, int], *, clients: int, seconds: float, seed: int) -> Load:
    return asyncio.run(_drive(portal, mix, clients=clients, seconds=seconds, seed=seed))


def _ms(value: float | None) -> str:
    return "—" if value is None else f"{value * 1000:,.1f}"


@app.command("load")
def bench_load(
    database: str = typer.Option("sqlite", help="'sqlite' (a fresh file) or a scratch PostgreSQL URL (emptied)."),
    seconds: float = typer.Option(30.0, min=1.0, help="Seconds of load."),
    clients: int = typer.Option(8, min=1, max=128, help="Concurrent HTTP clients."),
    mix: str = typer.Option(DEFAULT_MIX, help="Weights of the operations: submit (a birth one-thing with an "
                            "Idempotency-Key), consent (a prefill consent), form (the form read with the last "
                            "consent: an audited exchange read), portal (my applications, the one-things, my "
                            "messages, me)."),
    persons: int = typer.Option(10_000, min=100, help="Persons in the synthetic city beside the demo."),
    calib_pg_url: str = typer.Option("postgresql://postgres@127.0.0.1:5432/tongban_bench_load_calib",
                                     help="A scratch PostgreSQL database for the calibration app (emptied); "
                                          "'' to measure tongban alone."),
    calib_option: Path | None = typer.Option(None, "--calib", help=f"The calibration app's folder (default "
                                             f"${ANCHORS_ENV}/{CALIB}, else ../shared/anchors/{CALIB})."),
    seed: int = typer.Option(20, help="The seed of the operation mix."),
) -> None:
    """A mixed portal load for a given time: p50/p99 per operation, throughput and errors, beside the
    calibration app's submissions/s in the same run — the figures an operator plans capacity from."""
    weights = parse_mix(mix)
    calib_folder = calib_dir(calib_option) if calib_pg_url else None
    url = (f"sqlite:///{Path(tempfile.mkdtemp(prefix='tongban-bench-load-')) / 'load.db'}"
           if database == "sqlite" else database)
    if not (url.startswith("sqlite") or url.startswith("postgresql")):
        fail("--database: 'sqlite' or a postgresql:// URL")
    kind = "SQLite" if url.startswith("sqlite") else "PostgreSQL"
    with ExitStack() as stack:
        with console.status(f"{kind}: preparing tongban ({persons:,} persons) and starting serve + worker…"):
            var_dir = Path(tempfile.mkdtemp(prefix="tongban-bench-load-var-"))
            testing.prepare(url, var_dir, secret=SECRET, persons=persons)
            live = testing.LiveServer(url, var_dir, secret=SECRET).start()
            stack.callback(live.stop)
            portal = Portal(live.base, run=f"{int(time.time())}")
            drive(portal, weights, clients=clients, seconds=min(3.0, seconds), seed=seed)  # warm up
        with console.status(f"{kind}: {seconds:g} s of mixed load with {clients} clients…"):
            load = drive(portal, weights, clients=clients, seconds=seconds, seed=seed)
        calib_rate: float | None = None
        calib_errors = 0
        if calib_folder is not None:
            with console.status("the calibration app: preparing, starting and loading it…"):
                calib = Calibration(_scratch(calib_pg_url, ""), calib_folder, persons=persons)
                stack.callback(calib.server.stop)
                calib.warm_up(clients=clients, seconds=min(3.0, seconds))
                run = calib.submit(0, clients=clients, seconds=seconds)
                calib_rate, calib_errors = run.rate, run.failed
    table = Table(title=f"mixed portal load on {kind}: {clients} clients, {seconds:g} s, mix {mix}, "
                        f"{persons:,} persons; tongban serve (1 process) + worker")
    for col in ("operation", "requests", "per s", "p50 ms", "p99 ms", "errors"):
        table.add_column(col, justify="right")
    for name, op in load.ops.items():
        n = len(op.latencies) + op.errors
        table.add_row(name, f"{n:,}", f"{n / load.seconds:,.1f}", _ms(op.quantile(0.5)), _ms(op.quantile(0.99)),
                      f"{op.errors}")
    table.add_row("all", f"{load.answered:,}", f"{load.answered / load.seconds:,.1f}", "", "", f"{load.errors}")
    table.add_row("calibration app: submissions", "", "—" if calib_rate is None else f"{calib_rate:,.1f}", "", "",
                  "—" if calib_rate is None else f"{calib_errors}")
    table.caption = ("the calibration app (an application, five tasks and a chained audit row per POST) runs "
                     "after tongban, alone, with the same clients, on PostgreSQL: the submissions/s a bare "
                     "app reaches on this machine now; tongban's submissions share the server with the mix"
                     + ("" if calib_rate is not None else " (not measured: --calib-pg-url '')"))
    console.print(table)
    errors = {f"{n} {s}": c for n, o in load.ops.items() for s, c in o.statuses.items() if s >= 400}
    if errors:
        console.print(f"error answers: {errors}")

