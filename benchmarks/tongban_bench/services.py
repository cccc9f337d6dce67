"""`tongban bench services`: one-thing submissions and decisions per second over HTTP, on SQLite and
PostgreSQL, and beside them — in the same run, on the same PostgreSQL server — the calibration app
(`api_calib` in the anchors folder, see `locations.py`: an application, five tasks and a chained audit row per POST).

Both apps run as real processes started by `tongban.testing` (tongban as `tongban serve`, the
calibration app under uvicorn; one worker each, no access log) and are driven by
the same in-process load generator (httpx, N concurrent clients for a fixed time). Each uses its
own scratch database, emptied first, with about the same number of persons.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import typer
from rich.table import Table
from sqlalchemy.engine import make_url

from tongban import testing
from tongban.core.cliutil import EXIT_FAILED, console, fail
from tongban_bench import app
from tongban_bench.locations import ANCHORS_ENV, anchors_dir

SECRET = "bench-secret-key-0123456789abcdef0123"
CALIB_SECRET = "calib-secret-key-0123456789abcdef0123456789"  # the calibration app's own (see its mktoken.py)
PASSWORD = "tongban-demo"
FLOOR = 1 / 3


CALIB = "api_calib"  # its folder in the anchors (locations.anchors_dir)


def calib_dir(option: Path | None) -> Path:
    """The calibration app's folder (`--calib`, else api_calib in the anchors), or a refusal
    (exit 2) naming where it was looked for."""
    folder = (option or anchors_dir() / CALIB).resolve()
    if not (folder / "app.py").is_file():
        fail(f"the calibration app is not at {folder} (no app.py); pass --calib PATH or set {ANCHORS_ENV} "
             "to the anchors folder, or --pg-url '' to measure tongban alone")
    return folder


# --- the load generator -------------------------------------------------------------------------


@dataclass
class Run:
    ok: int = 0
    failed: int = 0
    seconds: float = 0.0
    statuses: dict[int, int] = field(default_factory=dict)
    bodies: list[Any] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0


Request = tuple[str, str, dict[str, str], Any]  # method, path, headers, json body


async def _drive(base: str, make: Callable[[int], Request | None], *, clients: int, seconds: float,
                 keep: bool = False) -> Run:
    import httpx

    run = Run()
    counter = iter(range(10**9))
    deadline = time.perf_counter() + seconds
    async with httpx.AsyncClient(base_url=base, timeout=60,
                                 limits=httpx.Limits(max_connections=clients)) as http:
        async def worker() -> None:
            while time.perf_counter() < deadline:
                req = make(next(counter))
                if req is None:
                    return
                method, path, headers, body = req
                resp = await http.request(method, path, headers=headers, json=body)
                run.statuses[resp.status_code] = run.statuses.get(resp.status_code, 0) + 1
                if resp.status_code < 300:
                    run.ok += 1
                    if keep:
                        run.bodies.append(resp.json())
                else:
                    run.failed += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(clients)))
        run.seconds = time.perf_counter() - started
    return run


def drive(base: str, make: Callable[[int], Request | None], *, clients: int, seconds: float,
          keep: bool = False) -> Run:
    return asyncio.run(_drive(base, make, clients=clients, seconds=seconds, keep=keep))


# --- servers ------------------------------------------------------------------------------------


# The launcher is tongban's own (tongban.testing), shared with the live-server tests.


# --- tongban ------------------------------------------------------------------------------------


def prepare_tongban(url: str, persons: int, var_dir: Path) -> None:
    """An empty database with the schema, the demo pack and cast, and a synthetic city."""
    testing.prepare(url, var_dir, secret=SECRET, persons=persons)


def birth_form() -> dict[str, Any]:
    """The birth one-thing's form of the demo's 张明 and 李婷 (as tests/services/conftest.py)."""
    born = (dt.date.today() - dt.timedelta(days=3)).isoformat()
    return {"child_name": "张小明", "child_sex": "M", "child_birth_date": born,
            "child_birth_place": "宁波市妇女儿童医院", "mother_name": "李婷", "mother_id_number": "330203199408210421",
            "father_name": "张明", "father_id_number": "330203199203150314", "household_number": "H330203000101",
            "applicant_phone": "13800000101", "mailing_address": "解放南路128号5幢1单元302室"}


def _token(base: str, username: str) -> dict[str, str]:
    import httpx

    resp = httpx.post(base + "/api/v1/auth/token", data={"username": username, "password": PASSWORD}, timeout=30)
    resp.raise_for_status()
    return {"Authorization": f"Bearer {resp.json()['access_token']}"}


class Tongban:
    """tongban's uvicorn on a fresh database at `url`: birth submissions, then decisions on them."""

    def __init__(self, url: str, *, persons: int, label: str) -> None:
        var_dir = Path(tempfile.mkdtemp(prefix="tongban-bench-var-"))
        prepare_tongban(url, persons, var_dir)
        self.server = testing.LiveServer(url, var_dir, secret=SECRET, worker=False).start()
        self.label = label
        try:
            self.resident = _token(self.server.base, "resident.zhang")
            self.officer = _token(self.server.base, "officer.health")
        except BaseException:
            self.server.stop()
            raise
        self.form = birth_form()
        self.submitted: list[Any] = []  # every measured submission's body, for the decisions

    def _submission(self, key: str) -> Request:
        return ("POST", "/api/v1/applications", {**self.resident, "Idempotency-Key": f"{self.label}-{key}"},
                {"onething_id": "onething.birth", "data": self.form})

    def warm_up(self, *, clients: int, seconds: float) -> None:
        drive(self.server.base, lambda i: self._submission(f"warm-{i}") if i < 2 * clients else None,
              clients=clients, seconds=seconds)

    def submit(self, round_no: int, *, clients: int, seconds: float) -> Run:
        # The round is in the key: each drive counts from 0, and a repeated key would be a repeat.
        run = drive(self.server.base, lambda i: self._submission(f"{round_no}-{i}"), clients=clients,
                    seconds=seconds, keep=True)
        self.submitted.extend(run.bodies)
        return run

    def decide(self, *, clients: int, seconds: float) -> Run:
        tasks = [t for a in self.submitted for t in a["tasks"] if t["item_id"] == "item.birth-certificate"]

        def decision(i: int) -> Request | None:
            if i >= len(tasks):
                return None
            t = tasks[i]
            return ("POST", f"/api/v1/workbench/tasks/{t['id']}/decision", self.officer,
                    {"decision": "approve", "version": t["version"]})

        return drive(self.server.base, decision, clients=clients, seconds=seconds)


# --- the calibration app ------------------------------------------------------------------------


class Calibration:
    """The calibration app's uvicorn on its own scratch database on the same PostgreSQL server."""

    def __init__(self, url: str, calib_dir: Path, *, persons: int) -> None:
        import jwt

        testing.empty_database(url)
        plain = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        subprocess.run(["psql", plain, "-q", "-v", "ON_ERROR_STOP=1", "-v", f"persons={persons}",  # noqa: S607
                        "-f", str(calib_dir / "schema.sql")], check=True, capture_output=True)
        dsn = make_url(url).set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
        token = jwt.encode({"sub": "calib-user", "role": "officer", "exp": int(time.time()) + 3600},
                           CALIB_SECRET, algorithm="HS256")
        self.headers = {"Authorization": f"Bearer {token}"}
        self.persons = persons
        self.server = testing.Uvicorn(["app:app"], env={"CALIB_DSN": dsn}, cwd=calib_dir, ready_path="/hello")

    def _post(self, key: str, i: int) -> Request:
        return ("POST", "/applications", {**self.headers, "Idempotency-Key": f"calib-{key}"},
                {"person_id": 1 + i % self.persons, "service_code": f"SVC{i % 50}", "note": "calibration load"})

    def warm_up(self, *, clients: int, seconds: float) -> None:
        drive(self.server.base, lambda i: self._post(f"warm-{i}", i) if i < 2 * clients else None,
              clients=clients, seconds=seconds)

    def submit(self, round_no: int, *, clients: int, seconds: float) -> Run:
        return drive(self.server.base, lambda i: self._post(f"{round_no}-{i}", i), clients=clients,
                     seconds=seconds)


# --- the command --------------------------------------------------------------------------------


def _scratch(url: str, suffix: str) -> str:
    u = make_url(url)
    return u.set(database=f"{u.database}{suffix}").render_as_string(hide_password=False)


def _median_rate(runs: list[Run]) -> float:
    return statistics.median(r.rate for r in runs)


@app.command("services")
def bench_services(
    pg_url: str = typer.Option("postgresql://postgres@127.0.0.1:5432/tongban_bench_services",
                               help="A scratch PostgreSQL database (emptied; the calibration app gets "
                                    "the same name + '_calib'); '' to skip PostgreSQL."),
    persons: int = typer.Option(100_000, min=1_000, help="Persons in each database."),
    seconds: float = typer.Option(15.0, min=1.0, help="Seconds per measure and app, split into the rounds."),
    rounds: int = typer.Option(5, min=1, help="Alternating rounds of submissions: tongban first in odd "
                                              "rounds, the calibration app first in even ones."),
    clients: int = typer.Option(8, min=1, max=64, help="Concurrent HTTP clients."),
    quick: bool = typer.Option(False, help="10,000 persons, 3 rounds of 1 s, decisions 3 s (the test suite)."),
    calib_option: Path | None = typer.Option(None, "--calib", help=f"The calibration app's folder (default "
                                      f"${ANCHORS_ENV}/{CALIB}, else ../shared/anchors/{CALIB} beside the checkout)."),
    floor: float = typer.Option(FLOOR, "--floor", min=0.0, help="The claim: tongban's submissions/s ÷ the "
                                "calibration app's, median of the rounds, at least this (exit 1 below it)."),
    enforce: bool | None = typer.Option(None, "--enforce/--no-enforce", help="Exit 1 below the floor (default: "
                                        "yes, except with --quick, whose rounds are too short to be the claim)."),
) -> None:
    """One-thing submissions/s and decisions/s over HTTP; the calibration app's POST /applications beside.

    Both servers run at once and the submissions alternate in short rounds, so that a change in the
    shared machine's load falls on both sides of the ratio rather than on one of them.
    """
    if quick:
        persons, seconds, rounds = 10_000, 3.0, 3
    round_seconds = seconds / rounds
    targets = [("SQLite", f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.db'}")]
    if pg_url:
        targets.append(("PostgreSQL", pg_url))
    calib_folder = calib_dir(calib_option) if pg_url else None
    table = Table(title=f"one-thing engine over HTTP: {clients} clients, {persons:,} persons, uvicorn 1 worker "
                        f"each; submissions in {rounds} rounds of {round_seconds:g} s (medians), "
                        f"decisions {seconds:g} s")
    for col in ("database", "measure", "tongban /s", "calibration app /s", "ratio", "errors"):
        table.add_column(col, justify="right")
    per_round_lines = []
    ratio = None
    for name, url in targets:
        with ExitStack() as stack:
            with console.status(f"{name}: preparing and starting tongban…"):
                ours = Tongban(url, persons=persons, label=f"bench-{name}-{int(time.time())}")
                stack.callback(ours.server.stop)
                ours.warm_up(clients=clients, seconds=seconds)
            calib = None
            if name == "PostgreSQL" and calib_folder is not None:
                with console.status("PostgreSQL: preparing and starting the calibration app…"):
                    calib = Calibration(_scratch(url, "_calib"), calib_folder, persons=persons)
                    stack.callback(calib.server.stop)
                    calib.warm_up(clients=clients, seconds=seconds)
            ours_runs: list[Run] = []
            calib_runs: list[Run] = []
            for round_no in range(rounds):
                with console.status(f"{name}: submissions, round {round_no + 1} of {rounds}…"):
                    # Tongban first in odd rounds (1, 3 …), the calibration app first in even ones, so
                    # that going first or second (a warmer cache, a load spike) falls on both apps alike.
                    order: list[tuple[Tongban | Calibration, list[Run]]] = [(ours, ours_runs)]
                    if calib is not None:
                        order.insert(0 if round_no % 2 else 1, (calib, calib_runs))  # round_no counts from 0
                    for side, runs in order:
                        runs.append(side.submit(round_no, clients=clients, seconds=round_seconds))
            with console.status(f"{name}: decisions…"):
                decided = ours.decide(clients=clients, seconds=seconds)
        ours_rate = _median_rate(ours_runs)
        errors = sum(r.failed for r in ours_runs + calib_runs)
        if calib_runs:
            pairs = list(zip(ours_runs, calib_runs, strict=True))
            per_round = [o.rate / c.rate for o, c in pairs if c.rate]
            # The median of each round's ratio, not the ratio of the medians: a round's two rates were
            # measured a second apart under the same load, the two medians may come from different rounds.
            ratio = statistics.median(per_round) if per_round else None
            table.add_row(name, "submissions", f"{ours_rate:,.0f}", f"{_median_rate(calib_runs):,.0f}",
                          f"{ratio:.2f}×" if ratio else "—", f"{errors}")
            per_round_lines.append(
                f"{name} rounds, tongban/calibration /s: " + ", ".join(f"{o.rate:.0f}/{c.rate:.0f}" for o, c in pairs)
                + (f"; ratio {min(per_round):.2f}–{max(per_round):.2f}×" if per_round else ""))
        else:
            table.add_row(name, "submissions", f"{ours_rate:,.0f}", "—", "—", f"{errors}")
            per_round_lines.append(f"{name} rounds, tongban /s: " + ", ".join(f"{o.rate:.0f}" for o in ours_runs))
        table.add_row(name, "decisions", f"{decided.rate:,.0f}", "—", "—", f"{decided.failed}")
    table.caption = "\n".join(per_round_lines)
    console.print(table)
    claim = f"floor: submissions ≥ {floor:.2f}× the calibration app's POST /applications"
    if ratio is None and not pg_url:
        console.print(f"{claim} — not measured (PostgreSQL skipped: --pg-url '')")
        return
    if ratio is None:
        fail(f"{claim} — not measured: the calibration app served no submission", EXIT_FAILED)
    met = ratio >= floor
    console.print(f"{claim} — {ratio:.2f}× ({'met' if met else 'MISSED'}; the median of {rounds} rounds' ratios)")
    if not met and (not quick if enforce is None else enforce):
        raise typer.Exit(EXIT_FAILED)
    if not met:
        console.print("(not enforced: --quick rounds are too short to be the claim, or --no-enforce)")
