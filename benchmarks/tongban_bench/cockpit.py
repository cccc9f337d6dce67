"""`tongban bench cockpit`: the cockpit's one screen over a city of 10 million persons with a year
of service history — the first screen and every drill-down timed through the app, beside the same
figures computed straight from the live tables, in one run.

1. The city and its history are generated once as Parquet (`tongban cockpit history --parquet`)
   and kept in `--folder` (`$TONGBAN_BENCH_CACHE`, else `var/bench/cockpit` in the checkout).
2. The database (`--database`, else `$TONGBAN_TEST_DATABASE_URL`) is emptied, given the schema, the
   demo pack and its cast of logins, and loaded from the Parquet (`tongban cockpit load`: COPY on
   PostgreSQL), timed; the cockpit's store refreshed over the year, timed. `--reuse` keeps a
   database that already holds this city and only brings the store up to date.
3. In-process through the ASGI app (a TestClient), as the district leader: the cockpit page and the
   first screen of the indicator, then the screen of every region below, level by level down to
   the communities — median and p95 of `--repeats` rounds; the process's resident-set high-water
   during these rounds (Linux VmHWM, reset first; else tracemalloc's peak, which the table says).
4. The same figures straight from the live tables: the indicator's `compute` over the screen's
   period and over its twelve months of trend, rolled up to the region and its children.

Exit 1 unless the first screen and every drill-down level have p95 ≤ `--limit` seconds and the
figures (the store's as-of) are at most `--max-age` seconds old when measured."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import statistics
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from tongban.core.cliutil import EXIT_FAILED, console, fail
from tongban_bench import app
from tongban_bench.locations import repo_root

DATABASE_ENV = "TONGBAN_TEST_DATABASE_URL"
CACHE_ENV = "TONGBAN_BENCH_CACHE"
LEADER, ADMIN = "leader.haishu", "admin.platform"
PASSWORD = "tongban-demo"  # the demo cast's (packs/demo/cast.yaml)
SECRET = "bench-cockpit-secret-0123456789abcdef0123"


def cache_dir(option: Path | None) -> Path:
    if option is not None:
        return option
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    return repo_root() / "var" / "bench" / "cockpit"


def database_url(option: str | None, var: Path) -> str:
    url = option or os.environ.get(DATABASE_ENV) or ""
    if url in ("", "sqlite"):
        var.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{var / 'cockpit.db'}"
    return url


def _settings(url: str, var: Path) -> Any:
    from tongban.core.config import load_settings

    return load_settings(demo=True, database_url=url, var_dir=var, secret_key=SECRET)


def prepare(url: str, var: Path) -> None:
    """An empty database with the schema, the demo pack (without its demo residents and cases)
    and the cast of demo logins."""
    from tongban import testing
    from tongban.core import masking, migrate
    from tongban.core.db import Database
    from tongban.core.packs.loader import load_pack, read_pack
    from tongban.core.packs.sections import apply_cast
    from tongban_bench.locations import demo_pack

    db = Database(url)
    try:
        current = migrate.at_head(db)
    except Exception:  # noqa: BLE001 - no database or no schema yet
        current = False
    finally:
        db.dispose()
    if not current:
        testing.empty_database(url)
    db = Database(url)
    try:
        if current:
            testing.empty_tables(db)
        else:
            migrate.upgrade(db)
        masking.configure(SECRET)
        with db.unit_of_work() as s:
            load_pack(s, demo_pack())
            pack = read_pack(demo_pack())
            apply_cast(s, pack.files_of("cast"), pack)
    finally:
        db.dispose()


def _loaded(url: str, manifest: dict[str, Any]) -> bool:
    """Whether the database holds this city and history (its persons and applications)."""
    from sqlalchemy import func, select

    from tongban.core.db import Database
    from tongban.registry.models import Person
    from tongban.services.models import Application

    db = Database(url)
    try:
        with db.engine.connect() as conn:
            persons = conn.execute(select(func.count()).select_from(Person)).scalar_one()
            apps = conn.execute(select(func.count()).select_from(Application)).scalar_one()
    except Exception:  # noqa: BLE001 - no schema yet: not loaded
        return False
    finally:
        db.dispose()
    return persons == manifest["city"]["person"] and apps == manifest["tables"].get("svc_application", 0)


def _pcts(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, max(0, round(0.95 * len(ordered)) - 1))]
    return statistics.median(ordered), p95


class _Memory:
    """The resident-set high-water of this process over a phase (VmHWM after resetting it through
    /proc/self/clear_refs), else tracemalloc's peak of Python allocations."""

    def __init__(self) -> None:
        self.kind = "RSS high-water"
        self.tracing = False

    def __enter__(self) -> _Memory:
        try:
            Path("/proc/self/clear_refs").write_text("5", encoding="ascii")
            self._hwm()
        except OSError:
            import tracemalloc

            self.kind, self.tracing = "tracemalloc peak", True
            tracemalloc.start()
        return self

    @staticmethod
    def _hwm() -> int:
        for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
        raise OSError("no VmHWM")

    def __exit__(self, *_: object) -> None:
        if self.tracing:
            import tracemalloc

            self.peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
        else:
            self.peak = self._hwm()


def _shown(ind: Any, measures: dict[str, float] | None) -> float | None:
    from tongban.cockpit import figures

    return figures.shown(ind, measures)


def live_figures(session: Any, ind: Any, region: str, day_from: dt.date, day_to: dt.date,
                 children: Iterable[str], trend_from: dt.date | None) -> dict[str, float | None]:
    """The indicator straight from the live tables: `compute` over the period, summed over the
    dimensions and rolled up to `region` and each child (a code prefix); and, for a flow, `compute`
    over the trend's months (the figures a screen shows, not their suppression)."""
    def roll(cells: Iterable[Any], codes: list[str]) -> dict[str, dict[str, float]]:
        sums = {c: dict.fromkeys(ind.measures, 0.0) for c in codes}
        for cell in cells:
            for c in codes:
                if cell.region.startswith(c):
                    for m in ind.measures:
                        sums[c][m] += float(cell.values.get(m, 0.0))
        return sums

    codes = [region, *children]
    sums = roll(ind.compute(session, day_from=day_from, day_to=day_to), codes)
    if trend_from is not None and ind.kind == "flow":
        roll(ind.compute(session, day_from=trend_from, day_to=day_to), [region])
    return {c: _shown(ind, s) for c, s in sums.items()}


def _same(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return abs(a - b) <= 1e-6 * max(1.0, abs(a), abs(b))


def measure(url: str, var: Path, *, indicator: str | None, repeats: int, max_age: float = 300.0,
            on_step: Callable[[], None] | None = None) -> dict[str, Any]:
    """The screen phase: the app in-process, the leader's screens timed, the live figures beside."""
    from fastapi.testclient import TestClient

    from tongban.cockpit import store
    from tongban.core import clock, masking
    from tongban.core.db import Database
    from tongban.web.app import create_app

    settings = _settings(url, var)
    masking.configure(SECRET)
    db = Database(url)
    out: dict[str, Any] = {}
    try:
        started = time.perf_counter()
        with db.unit_of_work() as s:
            store.refresh(s)
        out["refresh_incremental_s"] = time.perf_counter() - started
        client = TestClient(create_app(settings, db))
        token = client.post("/api/v1/auth/token", data={"username": LEADER, "password": PASSWORD})
        if token.status_code != 200:
            raise RuntimeError(f"login of {LEADER} failed: {token.text}")
        h = {"Authorization": f"Bearer {token.json()['access_token']}"}
        admin = client.post("/api/v1/auth/token", data={"username": ADMIN, "password": PASSWORD})
        ha = {"Authorization": f"Bearer {admin.json()['access_token']}"} if admin.status_code == 200 else None
        form = client.get("/login")  # the login form: its CSRF cookie and field, then the POST
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
        web = client.post("/login", data={"username": LEADER, "password": PASSWORD,
                                          "csrf_token": csrf.group(1) if csrf else ""}, follow_redirects=False)
        if web.status_code >= 400:
            raise RuntimeError(f"web login of {LEADER} failed: {web.status_code}")
        key = indicator
        if key is None:
            listing = client.get("/api/v1/cockpit/indicators", headers=h)
            keys = [i["key"] for i in listing.json()] if listing.status_code == 200 else []
            key = "services.applications" if "services.applications" in keys else (keys[0] if keys else None)
        if key is None:
            raise RuntimeError("the leader sees no indicator")
        out["indicator"] = key

        def get(path: str, *, page: bool = False, as_admin: bool = False) -> tuple[float, Any]:
            t = time.perf_counter()
            r = client.get(path, headers=None if page else ha if as_admin else h, follow_redirects=False)
            took = time.perf_counter() - t
            if r.status_code != 200:
                raise RuntimeError(f"GET {path}: {r.status_code} {r.text[:300]}")
            body = None if page else r.json()
            if body is not None and measuring:
                stamp = body.get("as_of")
                age = (clock.now() - dt.datetime.fromisoformat(stamp)).total_seconds() if stamp else float("inf")
                ages.append(age)
            return took, body

        measuring = False
        ages: list[float] = []  # how old the figures each timed screen showed were, seconds
        refreshes: list[float] = []  # the incremental refreshes between rounds (the cockpit job's work)

        # warm once (imports, first queries), untimed
        _, first = get(f"/api/v1/cockpit/screen/{key}")
        get("/cockpit", page=True)
        # the platform administrator's first screen (the whole tree), when they may look
        admin_sees = ha is not None and client.get(f"/api/v1/cockpit/screen/{key}", headers=ha).status_code == 200
        levels: dict[str, list[str]] = {}
        frontier = [first]
        while frontier:
            nxt = []
            for scr in frontier:
                for child in scr["children"]:
                    if child["drillable"] or (child["level"] == "community" and not child["not_broken_down"]):
                        levels.setdefault(child["level"], []).append(child["code"])
                        if child["drillable"]:
                            nxt.append(get(f"/api/v1/cockpit/screen/{key}?region={child['code']}")[1])
            frontier = nxt
        samples: dict[str, list[float]] = {"page": [], "first": [], "admin": [], **{lv: [] for lv in levels}}
        measuring = True
        with _Memory() as mem:
            for _ in range(repeats):
                # as the cockpit's job does at its interval: bring the store up to date when its
                # figures are half the allowed age old (timed apart from the screens)
                with db.unit_of_work() as s:
                    stamp = store.as_of(s).get(key)
                if stamp is None or (clock.now() - stamp).total_seconds() > max_age / 2:
                    t = time.perf_counter()
                    with db.unit_of_work() as s:
                        store.refresh(s)
                    refreshes.append(time.perf_counter() - t)
                samples["page"].append(get("/cockpit", page=True)[0])
                samples["first"].append(get(f"/api/v1/cockpit/screen/{key}")[0])
                if admin_sees:
                    samples["admin"].append(get(f"/api/v1/cockpit/screen/{key}", as_admin=True)[0])
                for lv, codes in levels.items():
                    for code in codes:
                        samples[lv].append(get(f"/api/v1/cockpit/screen/{key}?region={code}")[0])
                if on_step:
                    on_step()
        out["memory_kind"], out["memory_peak"] = mem.kind, mem.peak
        out["regions"] = {lv: len(c) for lv, c in levels.items()}
        out["times"] = {k: _pcts(v) for k, v in samples.items() if v}
        measuring = False
        out["age_s"] = max(ages) if ages else None
        out["refreshes_between_rounds_s"] = refreshes
        # the same figures, straight from the live tables: the first screen and its first drill-down
        ind = store.indicators()[key]
        day_from, day_to = dt.date.fromisoformat(first["from"]), dt.date.fromisoformat(first["to"])
        trend_from = dt.date.fromisoformat(first["trend"][0]["month"] + "-01") if first["trend"] else None
        live: dict[str, Any] = {}
        targets = [("first", first)]
        down_code = next((c["code"] for c in first["children"] if c["drillable"]), None)
        if down_code is not None:
            targets.append((access_level(down_code), get(f"/api/v1/cockpit/screen/{key}?region={down_code}")[1]))
        for label, scr in targets:
            kids = [c["code"] for c in scr["children"] if not c["not_broken_down"]]
            with db.unit_of_work() as s:
                t = time.perf_counter()
                got = live_figures(s, ind, scr["region"], day_from, day_to, kids, trend_from)
                took = time.perf_counter() - t
            ours = {scr["region"]: scr["total"]} | {c["code"]: c for c in scr["children"] if not c["not_broken_down"]}
            compared = [(ours[c]["value"], got[c]) for c in got if not ours[c]["suppressed"]]
            live[label] = {"seconds": took, "ours": scr["total"]["value"], "live": got[scr["region"]],
                           "same": all(_same(a, b) for a, b in compared), "compared": len(compared)}
        out["live"] = live
    finally:
        db.dispose()
    return out


def access_level(code: str) -> str:
    from tongban.core import access

    return str(access.region_level(code))


def _say(text: str) -> None:
    """A line with the time, so a long run's log shows where it is (the bars draw only on a terminal)."""
    console.print(f"[dim]{time.strftime('%H:%M:%S')}[/] {text}")


def run(*, persons: int, days: int, seed: int, rate: float, url: str, cache: Path, reuse: bool,
        indicator: str | None, repeats: int, max_age: float = 300.0,
        city_tables: list[str] | None = None) -> dict[str, Any]:
    """Generate (cached), load, refresh and measure; the figures of the run."""
    from tongban.cockpit import history
    from tongban.core.cliutil import progress
    from tongban.core.db import Database

    var = cache / "var"
    folder = cache / f"cockpit-{persons}-d{days}-s{seed}-r{rate:g}"
    result: dict[str, Any] = {"persons": persons, "days": days, "database": url.split("@")[-1], "folder": str(folder)}
    manifest_path = folder / history.MANIFEST
    loaded = reuse and manifest_path.is_file() and _loaded(url, json.loads(manifest_path.read_text("utf-8")))
    if not loaded:
        prepare(url, var)
    if not manifest_path.is_file():
        import shutil

        shutil.rmtree(folder, ignore_errors=True)
        db = Database(url)
        try:
            started = time.perf_counter()
            _say(f"generating {persons:,} persons × {days} days as Parquet in {folder}")

            def part_done(part: Any, rows: int) -> None:
                bar.advance(parts, 1)
                _say(f"  {part.key}: {rows:,} rows ({time.perf_counter() - started:,.0f} s so far)")

            with progress() as bar:
                city = bar.add_task("city (Parquet)", total=persons)
                parts = bar.add_task("history (Parquet)", total=len(history.parts()))
                history.write_parquet(db, folder, persons=persons, days=days, seed=seed, rate=rate,
                                      on_city=lambda n: bar.advance(city, n), on_part=part_done)
            result["generate_s"] = time.perf_counter() - started
            _say(f"generated in {result['generate_s']:,.0f} s")
        finally:
            db.dispose()
    manifest = json.loads(manifest_path.read_text("utf-8"))
    result["manifest"] = manifest
    if not loaded:
        db = Database(url)
        try:
            started = time.perf_counter()
            _say(f"loading into {result['database']}")
            with progress() as bar:
                tasks = {"city": bar.add_task("load city", total=persons)}
                tasks |= {t: bar.add_task(f"load {t}", total=n) for t, n in manifest["tables"].items()}
                tasks |= {k: bar.add_task(k, total=None) for k in manifest["deferred"]}
                done = history.load(db, folder, on_rows=lambda t, n: bar.advance(tasks[t], n),
                                    notes={"settings": _settings(url, var)}, tables=city_tables)
            result["city_tables"] = list(done.city_tables)
            result["load_s"] = time.perf_counter() - started - done.seconds["refresh"]
            result["load_parts_s"] = done.seconds
            result["refresh_s"] = done.seconds["refresh"]
            result["rows"] = done.rows
            _say(f"loaded in {result['load_s']:,.0f} s, refreshed in {result['refresh_s']:,.0f} s")
        finally:
            db.dispose()
    _say(f"timing the screens ({repeats} rounds)")
    with progress() as bar:
        task = bar.add_task("screens", total=repeats)
        result |= measure(url, var, indicator=indicator, repeats=repeats, max_age=max_age,
                          on_step=lambda: bar.advance(task, 1))
    return result


def report(result: dict[str, Any], *, limit: float, max_age: float) -> bool:
    """Print the tables; whether every target was met."""
    m = result["manifest"]
    counts = m["tables"]
    apps, tasks = counts.get("svc_application", 0), counts.get("svc_task", 0)
    cases, ratings = counts.get("case_case", 0), counts.get("rating", 0)
    setup = Table(title=f"cockpit at scale: {m['persons']:,} persons × {result['days']} days "
                        f"({m['start']}–{m['end']}) on {result['database']}")
    for col in ("step", "rows", "seconds"):
        setup.add_column(col, justify="left" if col == "step" else "right")
    if "generate_s" in result:
        setup.add_row("generate city + history (Parquet)", f"{sum(m['city'].values()) + sum(counts.values()):,}",
                      f"{result['generate_s']:,.1f}")
    for key, secs in result.get("load_parts_s", {}).items():
        if key == "analyze":
            setup.add_row("ANALYZE the loaded tables", "", f"{secs:,.1f}")
        elif key == "city" and result.get("city_tables") and len(result["city_tables"]) < len(m["city"]):
            setup.add_row(f"load city ({', '.join(result['city_tables'])} only)", f"{result['rows'].get(key, 0):,}",
                          f"{secs:,.1f}")
        elif key != "refresh":
            setup.add_row(f"load {key}", f"{result['rows'].get(key, 0):,}", f"{secs:,.1f}")
    if "refresh_s" in result:
        setup.add_row("refresh the store (full, the period)", "", f"{result['refresh_s']:,.1f}")
    setup.add_row("refresh the store (incremental, before measuring)", "", f"{result['refresh_incremental_s']:,.2f}")
    wide = Console(width=max(console.width, 132))  # a log file is 80 wide: the figures would be cut
    wide.print(setup)
    console.print(f"a year's scale: {apps:,} applications with {tasks:,} tasks, {cases:,} cases, {ratings:,} ratings "
                  f"(floors at 10,000,000 persons × 365 days: 5,000,000 / 1,000,000 / 3,000,000)")
    live = result["live"]
    table = Table(title=f"the one screen of {result['indicator']} as {LEADER}: through the app (ours) beside "
                        "the live tables")
    table.caption = ("ours: through the app, median and p95 of every round; live: the indicator's compute over "
                     "the period and the trend's months, rolled up; figures: the region's total, ours and live")
    for col in ("screen", "regions", "median s", "p95 s", "live s", "live/ours", "ours", "live", "same"):
        table.add_column(col, justify="left" if col == "screen" else "right", no_wrap=col == "screen")
    times = result["times"]
    page = times.get("page")
    if page:
        table.add_row("/cockpit page", "1", f"{page[0]:.3f}", f"{page[1]:.3f}", "", "", "", "", "")
    met = True
    for key, (median, p95) in times.items():
        if key == "page":
            continue
        lv = live.get(key)
        label = ("first screen" if key == "first" else "first screen (admin)" if key == "admin"
                 else f"→ {key}")
        regions = 1 if key in ("first", "admin") else result["regions"].get(key, 0)
        ok = p95 <= limit
        met = met and ok
        p95_text = f"{p95:.3f}" if ok else f"[red]{p95:.3f}[/]"
        if lv is not None:
            table.add_row(label, str(regions), f"{median:.3f}", p95_text, f"{lv['seconds']:.3f}",
                          f"{lv['seconds'] / median:,.1f}×" if median else "—", _fmt(lv["ours"]), _fmt(lv["live"]),
                          "yes" if lv["same"] else "[red]no[/]")
        else:
            table.add_row(label, str(regions), f"{median:.3f}", p95_text, "", "", "", "", "")
    wide.print(table)
    age = result.get("age_s")
    fresh = age is not None and age <= max_age
    peak = result["memory_peak"] / 2**20
    between = result.get("refreshes_between_rounds_s") or []
    console.print(f"peak memory during the screens ({result['memory_kind']}): {peak:,.0f} MiB; "
                  f"the oldest figures a timed screen showed: {'none' if age is None else f'{age:,.0f} s'} old"
                  + (f" (the store refreshed {len(between)}× between rounds, {max(between):,.1f} s at most)"
                     if between else ""))
    same = all(v["same"] for v in live.values())
    met = met and fresh
    console.print(f"target: first screen and every drill-down p95 ≤ {limit:g} s, figures ≤ {max_age:g} s old — "
                  + ("[green]met[/]" if met else "[red]MISSED[/]")
                  + ("" if same else " (the live figures differ from ours)"))
    return met


def _fmt(v: float | None) -> str:
    if v is None:
        return "—"
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:,.4g}"


@app.command("cockpit")
def bench_cockpit(
    persons: int = typer.Option(10_000_000, "--persons", min=100, max=20_000_000, help="Persons in the city."),
    days: int = typer.Option(365, "--days", min=1, max=3660, help="Days of service history, to today."),
    seed: int = typer.Option(1, "--seed"),
    rate: float = typer.Option(1.0, "--rate", min=0.01, max=100, help="Scales every history part's yearly rates."),
    database: str | None = typer.Option(None, "--database", help=f"Database URL (default ${DATABASE_ENV}; "
                                        "'sqlite' or unset: a SQLite file in the cache). Emptied unless --reuse."),
    folder: Path | None = typer.Option(None, "--folder", help=f"Cache folder (default ${CACHE_ENV}, else "
                                       "var/bench/cockpit in the checkout)."),
    reuse: bool = typer.Option(False, "--reuse", help="Keep a database that already holds this city and history."),
    indicator: str | None = typer.Option(None, "--indicator", help="The indicator (default: services.applications)."),
    repeats: int = typer.Option(10, "--repeats", min=1, max=1000, help="Rounds of every screen."),
    limit: float = typer.Option(1.0, "--limit", min=0.0, help="Seconds the p95 of each screen may take."),
    max_age: float = typer.Option(300.0, "--max-age", min=0.0, help="Seconds old the figures may be."),
    city_tables: str | None = typer.Option(None, "--city-tables", help="Load only these of the city's registry "
                                           "tables, comma-separated, with what they point to (person at least), "
                                           "e.g. household_member: the cockpit's screens read the population, "
                                           "not its incomes or assets. Default: all."),
    quick: bool = typer.Option(False, help="2,000 persons × 30 days, 3 rounds (for the test suite)."),
    json_out: Path | None = typer.Option(None, "--json", help="Also write the figures to this file."),
) -> None:
    """The cockpit's first screen and drill-downs over a large city, beside the live tables."""
    if quick:
        persons, days, repeats = min(persons, 2000), min(days, 30), min(repeats, 3)
    from tongban.cockpit import history
    from tongban.core.errors import TongbanError

    cache = cache_dir(folder)
    url = database_url(database, cache / "var")
    tables = [t.strip() for t in city_tables.split(",") if t.strip()] if city_tables is not None else None
    try:
        history.city_tables(tables)
    except TongbanError as exc:
        fail(exc.translated())
    try:
        result = run(persons=persons, days=days, seed=seed, rate=rate, url=url, cache=cache, reuse=reuse,
                     indicator=indicator, repeats=repeats, max_age=max_age, city_tables=tables)
    except RuntimeError as exc:
        fail(str(exc), EXIT_FAILED)
    met = report(result, limit=limit, max_age=max_age)
    if json_out is not None:
        json_out.write_text(json.dumps(result, indent=2, default=str), encoding="utf-8")
    if not met:
        raise typer.Exit(EXIT_FAILED)
