"""`tongban bench cases`: 12345 filings (each dispatched by the 派单目录 as it is filed) and the
operator's dispatches per second over HTTP, beside the calibration app's POST /applications in the
same run on the same PostgreSQL server, as a ratio. The machinery (load generator, launcher,
calibration app) is the services bench's."""

from __future__ import annotations

import statistics
import tempfile
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from tongban.core.cliutil import EXIT_FAILED, console, fail
from tongban_bench import app
from tongban_bench.locations import ANCHORS_ENV
from tongban_bench.services import (
    CALIB,
    SECRET,
    Calibration,
    Request,
    Run,
    _median_rate,
    _scratch,
    _token,
    calib_dir,
    drive,
    prepare_tongban,
)

ROUTED = {"description": "楼下工地夜间施工噪音很大，影响休息", "category_id": "case.noise",
          "region_code": "330203001001", "address": "解放南路128号"}
UNROUTED = {**ROUTED, "category_id": "case.other", "type": "consult",
            "description": "想咨询一下这件事应该找哪个部门"}


class Cases:
    """tongban on a fresh database: residents file; the operator dispatches the unrouted ones."""

    def __init__(self, url: str, *, persons: int) -> None:
        from tongban import testing

        var_dir = Path(tempfile.mkdtemp(prefix="tongban-bench-cases-"))
        prepare_tongban(url, persons, var_dir)
        self.server = testing.LiveServer(url, var_dir, secret=SECRET, worker=False).start()
        try:
            self.resident = _token(self.server.base, "resident.zhang")
            self.operator = _token(self.server.base, "hotline.haishu")
        except BaseException:
            self.server.stop()
            raise
        self.waiting: list[Any] = []

    def warm_up(self, *, clients: int, seconds: float) -> None:
        drive(self.server.base, lambda i: ("POST", "/api/v1/cases", self.resident, ROUTED) if i < 2 * clients else None,
              clients=clients, seconds=seconds)

    def submit(self, round_no: int, *, clients: int, seconds: float) -> Run:
        return drive(self.server.base, lambda i: ("POST", "/api/v1/cases", self.resident, ROUTED),
                     clients=clients, seconds=seconds)

    def file_unrouted(self, *, clients: int, seconds: float) -> Run:
        run = drive(self.server.base, lambda i: ("POST", "/api/v1/cases", self.resident, UNROUTED),
                    clients=clients, seconds=seconds, keep=True)
        self.waiting = run.bodies
        return run

    def dispatch(self, *, clients: int, seconds: float) -> Run:
        def one(i: int) -> Request | None:
            if i >= len(self.waiting):
                return None
            c = self.waiting[i]
            return ("POST", f"/api/v1/cases/{c['id']}/dispatch", self.operator,
                    {"department_id": "dept.haishu.gov", "version": c["version"]})

        return drive(self.server.base, one, clients=clients, seconds=seconds)


@app.command("cases")
def bench_cases(
    pg_url: str = typer.Option("postgresql://postgres@127.0.0.1:5432/tongban_bench_cases",
                               help="A scratch PostgreSQL database (emptied; the calibration app gets the same "
                                    "name + '_calib'); '' to measure SQLite alone."),
    persons: int = typer.Option(10_000, min=1_000, help="Persons in each database."),
    seconds: float = typer.Option(10.0, min=1.0, help="Seconds of filings per app, split into the rounds."),
    rounds: int = typer.Option(5, min=1, help="Alternating rounds: tongban first in odd rounds."),
    clients: int = typer.Option(8, min=1, max=64, help="Concurrent HTTP clients."),
    quick: bool = typer.Option(False, help="3 rounds of 1 s, dispatches 2 s (the test suite)."),
    calib_option: Path | None = typer.Option(None, "--calib", help=f"The calibration app's folder (default "
                                             f"${ANCHORS_ENV}/{CALIB})."),
) -> None:
    """Case filings/s (each auto-dispatched) and operator dispatches/s; the calibration app's POST beside."""
    if quick:
        seconds, rounds = 3.0, 3
    round_seconds = seconds / rounds
    target = ("PostgreSQL", pg_url) if pg_url else ("SQLite", f"sqlite:///{Path(tempfile.mkdtemp()) / 'b.db'}")
    calib_folder = calib_dir(calib_option) if pg_url else None
    table = Table(title=f"case engine over HTTP: {clients} clients, {persons:,} persons, uvicorn 1 worker each; "
                        f"filings in {rounds} rounds of {round_seconds:g} s (medians)")
    for col in ("database", "measure", "tongban /s", "calibration app /s", "ratio", "errors"):
        table.add_column(col, justify="right")
    name, url = target
    ratio = None
    with ExitStack() as stack:
        with console.status(f"{name}: preparing and starting tongban…"):
            ours = Cases(url, persons=persons)
            stack.callback(ours.server.stop)
            ours.warm_up(clients=clients, seconds=round_seconds)
        calib = None
        if calib_folder is not None:
            with console.status("PostgreSQL: preparing and starting the calibration app…"):
                calib = Calibration(_scratch(url, "_calib"), calib_folder, persons=persons)
                stack.callback(calib.server.stop)
                calib.warm_up(clients=clients, seconds=round_seconds)
        ours_runs: list[Run] = []
        calib_runs: list[Run] = []
        for round_no in range(rounds):
            order: list[tuple[Any, list[Run]]] = [(ours, ours_runs)]
            if calib is not None:
                order.insert(0 if round_no % 2 else 1, (calib, calib_runs))
            for side, runs in order:
                runs.append(side.submit(round_no, clients=clients, seconds=round_seconds))
        unrouted = ours.file_unrouted(clients=clients, seconds=round_seconds)
        dispatched = ours.dispatch(clients=clients, seconds=max(2.0, round_seconds))
    errors = sum(r.failed for r in ours_runs + calib_runs)
    if calib_runs:
        per_round = [o.rate / c.rate for o, c in zip(ours_runs, calib_runs, strict=True) if c.rate]
        ratio = statistics.median(per_round) if per_round else None
    table.add_row(name, "filings (auto-dispatched)", f"{_median_rate(ours_runs):,.0f}",
                  f"{_median_rate(calib_runs):,.0f}" if calib_runs else "—",
                  f"{ratio:.2f}×" if ratio else "—", f"{errors}")
    table.add_row(name, "filings waiting for the operator", f"{unrouted.rate:,.0f}", "—", "—", f"{unrouted.failed}")
    table.add_row(name, "operator dispatches", f"{dispatched.rate:,.0f}", "—", "—", f"{dispatched.failed}")
    console.print(table)
    if errors or dispatched.failed or unrouted.failed:
        fail(f"{errors + dispatched.failed + unrouted.failed} request(s) failed", EXIT_FAILED)
    if ratio is not None:
        console.print(f"filings ÷ the calibration app's POST /applications: {ratio:.2f}× "
                      f"(the median of {rounds} rounds' ratios; measured, no floor claimed yet)")

