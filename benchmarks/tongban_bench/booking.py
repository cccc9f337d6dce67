"""`tongban bench booking`: many clients racing for few places — each of `--clients` residents
tries to book every slot of a bench resource in turn, all at once, so each slot's `--capacity`
places go to the fastest and everyone else is told it is full (409). Reported: booking requests
and bookings made per second, refusals, errors, and the overbooked slots found afterwards (a slot
whose counter exceeds its capacity or differs from its active bookings) — which must be zero (the
exit code says so); beside it, in the same run, the calibration app's submissions per second on
PostgreSQL (`services.py`), and the ratio of tongban's bookings per second to it.

tongban runs as an operator runs it (`tongban serve` and `tongban worker`, `tongban.testing`) on a
fresh SQLite or PostgreSQL database with the demo pack and cast."""

from __future__ import annotations

import asyncio
import datetime as dt
import tempfile
import time
from collections.abc import Awaitable, Callable
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
from tongban_bench.services import CALIB, PASSWORD, SECRET, Calibration, _scratch, calib_dir

RESOURCE = "appt.bench"
SLOT_MINUTES = 30


def _set_up(url: str, *, clients: int, capacity: int) -> list[str]:
    """The bench resource (every day 08:00–20:00, half-hour slots, `capacity` places, holidays
    open, a year ahead) and `clients` resident accounts; their usernames."""
    from tongban.appointments.models import Resource
    from tongban.core.db import Database
    from tongban.core.identity import service as identity

    db = Database(url)
    try:
        with db.unit_of_work() as s:
            days = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
            s.add(Resource(id=RESOURCE, kind="window", title_zh="压测窗口", title_en="Bench window",
                           place_key="place.hall-haishu", region_code="330203003001", department_id="dept.haishu.hrss",
                           items=[], active=True, pack_id=None,
                           rules={"weekly": {d: ["08:00-20:00"] for d in days}, "slot_minutes": SLOT_MINUTES,
                                  "capacity": capacity, "holidays": "open", "book_ahead_days": 366,
                                  "per_resident_per_day": 20, "no_show": {"limit": 3, "within_days": 90,
                                                                          "pause_days": 30}}))
            names = [f"bench.racer{i:03d}" for i in range(clients)]
            for i, name in enumerate(names):
                identity.create_account(s, kind="resident", username=name, password=PASSWORD, display_name=name,
                                        id_number=f"3302031990{i:07d}X"[:18], region_code="330203003001")
        return names
    finally:
        db.dispose()


def _slots(first: dt.date, count: int) -> list[tuple[str, str]]:
    per_day = (20 - 8) * 60 // SLOT_MINUTES
    out = []
    for k in range(count):
        day = first + dt.timedelta(days=k // per_day)
        minutes = 8 * 60 + (k % per_day) * SLOT_MINUTES
        out.append((day.isoformat(), f"{minutes // 60:02d}:{minutes % 60:02d}"))
    return out


@dataclass
class Race:
    requests: int = 0
    booked: int = 0
    full: int = 0
    other_refusals: int = 0
    errors: int = 0
    slots_raced: int = 0
    seconds: float = 0.0
    statuses: dict[int, int] = field(default_factory=dict)
    other: dict[str, int] = field(default_factory=dict)  # the other refusals, by status, field and detail


async def _race(base: str, tokens: list[dict[str, str]], slots: list[tuple[str, str]], seconds: float) -> Race:
    import httpx

    race = Race()
    deadline = time.perf_counter() + seconds

    def client(headers: dict[str, str]) -> Callable[[Any], Awaitable[None]]:
        async def run(http: Any) -> None:
            for k, (day, start) in enumerate(slots):
                if time.perf_counter() >= deadline:
                    return
                try:
                    resp = await http.post("/api/v1/appointments/bookings", headers=headers,
                                           json={"resource_id": RESOURCE, "day": day, "start": start})
                except httpx.HTTPError:
                    race.errors += 1
                    continue
                race.requests += 1
                race.slots_raced = max(race.slots_raced, k + 1)
                race.statuses[resp.status_code] = race.statuses.get(resp.status_code, 0) + 1
                if resp.status_code == 201:
                    race.booked += 1
                elif resp.status_code == 409 and resp.json().get("field") == "start":
                    race.full += 1
                elif resp.status_code < 500:
                    race.other_refusals += 1
                    why = f"{resp.status_code} {resp.json().get('field')}: {resp.json().get('detail')}"
                    race.other[why] = race.other.get(why, 0) + 1
                else:
                    race.errors += 1
        return run

    race.seconds = await swarm(base, [client(t) for t in tokens])
    return race


def overbooked(url: str) -> tuple[int, int]:
    """(slots whose counter exceeds the capacity or differs from the active bookings, slots made)."""
    from sqlalchemy import func, select

    from tongban.appointments.models import Booking, Slot
    from tongban.core.db import Database

    db = Database(url)
    try:
        with db.engine.connect() as conn:
            active = dict(conn.execute(select(Booking.slot_id, func.count()).where(
                Booking.resource_id == RESOURCE, Booking.status == "active").group_by(Booking.slot_id)).all())
            bad = made = 0
            for slot_id, capacity, booked in conn.execute(select(Slot.id, Slot.capacity, Slot.booked)
                                                          .where(Slot.resource_id == RESOURCE)):
                made += 1
                if booked > capacity or booked != active.get(slot_id, 0) or active.get(slot_id, 0) > capacity:
                    bad += 1
            return bad, made
    finally:
        db.dispose()


@app.command("booking")
def bench_booking(
    database: str = typer.Option("sqlite", help="'sqlite' (a fresh file) or a scratch PostgreSQL URL (emptied)."),
    seconds: float = typer.Option(20.0, min=1.0, help="Seconds of racing."),
    clients: int = typer.Option(32, min=2, max=128, help="Residents racing, each its own HTTP client."),
    capacity: int = typer.Option(3, min=1, max=100, help="Places per slot (fewer than the clients)."),
    calib_pg_url: str = typer.Option("postgresql://postgres@127.0.0.1:5432/tongban_bench_booking_calib",
                                     help="A scratch PostgreSQL database for the calibration app (emptied); "
                                          "'' to measure tongban alone."),
    calib_option: Path | None = typer.Option(None, "--calib", help=f"The calibration app's folder (default "
                                             f"${ANCHORS_ENV}/{CALIB}, else ../shared/anchors/{CALIB})."),
) -> None:
    """Bookings per second with many clients racing for few places, zero overbooked slots, beside
    the calibration app's submissions per second in the same run."""
    if capacity >= clients:
        fail("--capacity must be below --clients: the clients race for fewer places than they are")
    calib_folder = calib_dir(calib_option) if calib_pg_url else None
    url = (f"sqlite:///{Path(tempfile.mkdtemp(prefix='tongban-bench-booking-')) / 'booking.db'}"
           if database == "sqlite" else database)
    if not (url.startswith("sqlite") or url.startswith("postgresql")):
        fail("--database: 'sqlite' or a postgresql:// URL")
    kind = "SQLite" if url.startswith("sqlite") else "PostgreSQL"
    from tongban_bench.services import _token

    with ExitStack() as stack:
        with console.status(f"{kind}: preparing tongban with {clients} residents and starting serve + worker…"):
            var_dir = Path(tempfile.mkdtemp(prefix="tongban-bench-booking-var-"))
            testing.prepare(url, var_dir, secret=SECRET)
            names = _set_up(url, clients=clients, capacity=capacity)
            live = testing.LiveServer(url, var_dir, secret=SECRET).start()
            stack.callback(live.stop)
            tokens = [_token(live.base, n) for n in names]
        from tongban.core import clock

        tomorrow = clock.today() + dt.timedelta(days=1)
        slots = _slots(tomorrow, 300 * 24)
        with console.status(f"{kind}: {clients} clients racing for {capacity} places a slot, {seconds:g} s…"):
            race = asyncio.run(_race(live.base, tokens, slots, seconds))
        bad, made = overbooked(url)
        calib_rate: float | None = None
        calib_errors = 0
        if calib_folder is not None:
            with console.status("the calibration app: preparing, starting and loading it…"):
                calib = Calibration(_scratch(calib_pg_url, ""), calib_folder, persons=1000)
                stack.callback(calib.server.stop)
                calib.warm_up(clients=clients, seconds=min(3.0, seconds))
                run = calib.submit(0, clients=clients, seconds=seconds)
                calib_rate, calib_errors = run.rate, run.failed
    per_s = race.booked / race.seconds if race.seconds else 0.0
    table = Table(title=f"booking race on {kind}: {clients} clients, {capacity} places a slot, {seconds:g} s; "
                        "tongban serve (1 process) + worker")
    for col in ("measure", "value"):
        table.add_column(col, justify="right")
    table.add_row("booking requests", f"{race.requests:,}")
    table.add_row("requests per s", f"{race.requests / race.seconds if race.seconds else 0:,.1f}")
    table.add_row("bookings made", f"{race.booked:,}")
    table.add_row("bookings per s", f"{per_s:,.1f}")
    table.add_row("refused: slot full", f"{race.full:,}")
    table.add_row("refused: the resident's day limit, other", f"{race.other_refusals:,}")
    table.add_row("errors", f"{race.errors:,}")
    table.add_row("slots raced", f"{race.slots_raced:,}")
    table.add_row("overbooked slots", f"{bad}")
    table.add_row("calibration app: submissions per s", "—" if calib_rate is None else f"{calib_rate:,.1f}")
    table.add_row("ratio: bookings per s ÷ calibration", "—" if not calib_rate else f"{per_s / calib_rate:.2f}")
    rate = race.requests / race.seconds if race.seconds else 0.0
    table.add_row("ratio: requests per s ÷ calibration", "—" if not calib_rate else f"{rate / calib_rate:.2f}")
    table.caption = ("every slot is raced by all clients at once; a slot's places go to the first, the others get "
                     "409 (full). Overbooked: a slot whose counter exceeds its capacity or differs from its active "
                     "bookings. The calibration app (an application, five tasks and a chained audit row per POST) "
                     "runs after tongban, alone, with the same clients, on PostgreSQL"
                     + ("" if calib_rate is not None else " (not measured: --calib-pg-url '')")
                     + (f"; its errors: {calib_errors}" if calib_rate is not None else ""))
    console.print(table)
    if race.other:
        console.print(f"other refusals: {race.other}")
    if bad or race.errors or made == 0 or race.booked > made * capacity:
        console.print(f"[red]FAILED[/red]: {bad} overbooked slots, {race.errors} errors, {made} slots made; "
                      f"statuses {race.statuses}")
        raise typer.Exit(1)
