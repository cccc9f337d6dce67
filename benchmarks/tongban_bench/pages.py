"""`tongban bench pages`: the weight and speed of the main pages on a throttled phone.

A live server (`tongban.testing.LiveServer`, the demo loaded) and Debian's Chromium; each page is
opened in a fresh browser context (empty cache, signed in where the page needs it) on the phone
profile of Chrome DevTools — Fast 3G (`Network.emulateNetworkConditions`: 562.5 ms latency,
1.6 Mbps down, 750 kbps up) and a 4× slower CPU (`Emulation.setCPUThrottlingRate`). For each page:
the bytes transferred (every response, headers included, compressed as sent), the first
contentful paint, and the time until the page is usable — its `load` event for a plain page, and
for a chart page the moment ECharts reports `finished` for every chart it drew.

Beside each chart page the same page is measured in the same run with the baseline: `--baseline
before` (the default) is the page as it was before issue #23 — the full `echarts.min.js` in the
head and nothing compressed; `--baseline full` is today's page with only the ECharts build swapped
for the full one. Exit 1 when a plain resident page weighs more than 100 KB or a chart page is not
at least 2× faster than its baseline (the department dashboard; the map's ratio is shown).
"""

from __future__ import annotations

import shutil
import statistics
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from tongban.core.cliutil import console, fail
from tongban_bench import app

BUDGET_BYTES = 100 * 1024
SPEEDUP = 2.0
PHONE = {"width": 390, "height": 844}
# Chrome DevTools' "Fast 3G" (its throughput × 0.9 packet factor, latency × 3.75) and "4× slowdown".
FAST_3G = {"offline": False, "latency": 562.5, "downloadThroughput": 1.6 * 1024 * 1024 / 8 * 0.9,
           "uploadThroughput": 750 * 1024 / 8 * 0.9}
CPU_SLOWDOWN = 4


@dataclass(frozen=True)
class PageSpec:
    name: str
    path: str
    user: str | None  # a cast member to sign in as, or None for a visitor
    kind: str  # resident | staff | chart
    elder: bool = False
    # how the page loaded ECharts before issue #23: in the head (?echarts=before), or after the
    # first paint already, as the places map did (?echarts=full); nothing was compressed either way
    before: str = "before"
    # the speed target is enforced on the department dashboard (the page issue #23 measured);
    # the map's ratio is printed beside it
    enforce_speed: bool = True


PAGES = (
    PageSpec("login", "/login", None, "resident"),
    PageSpec("portal home", "/portal", "resident.zhang", "resident"),
    PageSpec("长辈版 home", "/portal", "resident.chen", "resident", elder=True),
    PageSpec("apply (catalogue)", "/portal/apply", "resident.zhang", "resident"),
    PageSpec("progress", "/portal/applications", "resident.zhang", "resident"),
    PageSpec("wallet", "/portal/wallet", "resident.zhang", "resident"),
    PageSpec("verify", "/verify", None, "resident"),
    PageSpec("workbench queue", "/workbench/tasks", "officer.health", "staff"),
    PageSpec("department dashboard", "/workbench/dashboard", "officer.health", "chart"),
    PageSpec("places map", "/places/map", "officer.health", "chart", before="full", enforce_speed=False),
)
QUICK = ("login", "portal home", "department dashboard")


@dataclass
class Result:
    spec: PageSpec
    variant: str  # ours | the baseline's name
    bytes: list[int] = field(default_factory=list)
    paint: list[float] = field(default_factory=list)
    usable: list[float] = field(default_factory=list)

    @property
    def kb(self) -> float:
        return statistics.median(self.bytes) / 1024

    @property
    def usable_s(self) -> float:
        return statistics.median(self.usable) / 1000

    @property
    def paint_s(self) -> float:
        return statistics.median(self.paint) / 1000


USABLE_JS = """() => {
  const nav = performance.getEntriesByType('navigation')[0];
  const fcp = performance.getEntriesByName('first-contentful-paint')[0];
  const charts = window.tongbanCharts || {};
  return {load: nav ? nav.loadEventEnd : null, paint: fcp ? fcp.startTime : null,
          drawn: charts.drawn || 0, finishedAt: charts.finishedAt || null, failed: !!charts.failed};
}"""
CHARTS_DONE_JS = "() => window.tongbanCharts && (window.tongbanCharts.failed || (window.tongbanCharts.drawn > 0 && window.tongbanCharts.finished >= window.tongbanCharts.drawn))"


def _chromium() -> str:
    import os

    path = os.environ.get("TONGBAN_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        fail("Debian's chromium is needed (apt-get install chromium)")
    return str(path)


def _signed_in_state(browser: Any, base: str, user: str | None, elder: bool) -> dict[str, Any] | None:
    """The cookies of a session of `user` (in 长辈版 or not), made without throttling."""
    from tongban import testing

    if user is None:
        return None
    context = browser.new_context(base_url=base, locale="zh-CN")
    page = context.new_page()
    page.goto("/login")
    page.fill("#username", user)
    page.fill("#password", testing.DEMO_PASSWORD)
    with page.expect_navigation():
        page.press("#password", "Enter")
    if "/login" in page.url:
        fail(f"could not sign in as {user}")
    on = page.evaluate("document.documentElement.classList.contains('elder')")
    if on != elder:
        with page.expect_navigation():
            page.get_by_role("button", name="长辈版").click()
    state = context.storage_state()
    context.close()
    return state


def _measure(browser: Any, base: str, spec: PageSpec, state: dict[str, Any] | None, variant: str,
             result: Result, *, throttle: bool) -> None:
    context = browser.new_context(base_url=base, viewport=PHONE, is_mobile=True, has_touch=True,
                                  device_scale_factor=2, locale="zh-CN", storage_state=state)
    context.set_default_timeout(120_000)
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    if variant == "before":  # nothing was compressed before issue #23
        cdp.send("Network.setExtraHTTPHeaders", {"headers": {"Accept-Encoding": "identity"}})
    if throttle:
        cdp.send("Network.emulateNetworkConditions", FAST_3G)
        cdp.send("Emulation.setCPUThrottlingRate", {"rate": CPU_SLOWDOWN})
    sizes: dict[str, float] = {}
    cdp.on("Network.loadingFinished", lambda e: sizes.__setitem__(e["requestId"], e["encodedDataLength"]))
    path = spec.path + ("" if variant == "ours" else f"?echarts={spec.before if variant == 'before' else 'full'}")
    response = page.goto(path, wait_until="load")
    if response is None or response.status >= 400:
        fail(f"{spec.path} answered {response.status if response else 'nothing'}")
    if spec.kind == "chart":
        from playwright.sync_api import TimeoutError as PlaywrightTimeout

        try:
            page.wait_for_function(CHARTS_DONE_JS, polling=250, timeout=90_000)
        except PlaywrightTimeout:
            fail(f"{spec.path} ({variant}): ECharts never reported finished: "
                 f"{page.evaluate('JSON.stringify(window.tongbanCharts)')}")
    page.wait_for_load_state("networkidle")
    figures = page.evaluate(USABLE_JS)
    if spec.kind == "chart" and (figures["failed"] or not figures["drawn"]):
        fail(f"{spec.path}: no chart was drawn ({variant})")
    context.close()
    result.bytes.append(int(sum(sizes.values())))
    result.paint.append(float(figures["paint"] or 0))
    result.usable.append(float(figures["finishedAt"] if spec.kind == "chart" else figures["load"]))


@app.command("pages")
def bench_pages(
    runs: int = typer.Option(3, "--runs", min=1, max=20, help="Loads of each page (the median is shown)."),
    baseline: str = typer.Option("before", "--baseline",
                                 help="The chart pages' baseline: 'before' (the full echarts.min.js in the "
                                      "head, nothing compressed: the pages before issue #23) or 'full' (today's "
                                      "pages with the full echarts.min.js build)."),
    quick: bool = typer.Option(False, "--quick", help="Three pages, one run, no throttling (a smoke test)."),
    db_url: str | None = typer.Option(None, "--db", help="A scratch database for the live server "
                                                         "(default: SQLite in a temporary folder). EMPTIED."),
) -> None:
    """Bytes and time-to-usable of the main pages on a throttled phone, beside the full ECharts build."""
    if baseline not in ("before", "full"):
        fail("--baseline is 'before' or 'full'", code=2)
    from playwright.sync_api import sync_playwright

    from tongban import testing

    specs = [p for p in PAGES if not quick or p.name in QUICK]
    runs = 1 if quick else runs
    with tempfile.TemporaryDirectory(prefix="tongban-bench-pages-") as tmp:
        url = db_url or f"sqlite:///{Path(tmp) / 'pages.db'}"
        console.print(f"preparing a live server on {url.split('@')[-1]} (the demo) …")
        testing.prepare(url, Path(tmp) / "var")
        results: list[Result] = []
        with testing.LiveServer(url, Path(tmp) / "var", worker=False) as live, sync_playwright() as p:
            browser = p.chromium.launch(executable_path=_chromium(), headless=True,
                                        args=["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync",
                                              "--disable-background-networking", "--disable-component-update"])
            try:
                for spec in specs:
                    state = _signed_in_state(browser, live.base, spec.user, spec.elder)
                    variants = ["ours", baseline] if spec.kind == "chart" else ["ours"]
                    for variant in variants:
                        result = Result(spec, variant)
                        for _ in range(runs):
                            _measure(browser, live.base, spec, state, variant, result, throttle=not quick)
                        results.append(result)
            finally:
                browser.close()
    problems = _report(results, baseline, quick=quick)
    if problems:
        for line in problems:
            console.print(f"[red]✗ {line}[/red]")
        raise typer.Exit(1)
    if quick:
        console.print("--quick: no throttling, so the speed target is not checked (the 100 KB budget is)")
    else:
        console.print("[green]✓ every plain resident page ≤ 100 KB; the dashboard ≥ 2× faster than its baseline[/green]")


def _report(results: list[Result], baseline: str, *, quick: bool) -> list[str]:
    profile = "no throttling (--quick)" if quick else "Fast 3G, 4× CPU slowdown"
    table = Table(title=f"tongban bench pages — phone 390×844, {profile}, cold cache, median of "
                        f"{len(results[0].bytes)} load(s)")
    for col in ("page", "path", "build", "KB transferred", "first paint s", "usable s", "vs baseline"):
        table.add_column(col, justify="left" if col in ("page", "path", "build") else "right")
    problems = []
    names = {"ours": "ours", "before": "before #23", "full": "full build"}
    for r in results:
        speed = ""
        if r.spec.kind == "chart" and r.variant == "ours":
            base = next(b for b in results if b.spec is r.spec and b.variant != "ours")
            factor = base.usable_s / r.usable_s if r.usable_s else 0.0
            speed = f"{factor:.1f}× faster" + ("" if r.spec.enforce_speed else " (shown)")
            if not quick and r.spec.enforce_speed and factor < SPEEDUP:
                problems.append(f"{r.spec.name}: {factor:.2f}× faster than its baseline, under {SPEEDUP}×")
        if r.spec.kind == "resident" and r.variant == "ours" and r.kb * 1024 > BUDGET_BYTES:
            problems.append(f"{r.spec.name}: {r.kb:.1f} KB transferred, over the 100 KB budget")
        table.add_row(r.spec.name if r.variant == "ours" else "", r.spec.path if r.variant == "ours" else "",
                      names[r.variant], f"{r.kb:.1f}", f"{r.paint_s:.2f}", f"{r.usable_s:.2f}", speed)
    from rich.console import Console

    # never squeezed into unreadable columns by a narrow terminal
    Console(width=max(console.width, 132), file=console.file, highlight=False).print(table)
    console.print("usable: the load event (plain pages), ECharts' `finished` for every chart (chart pages). "
                  "before #23: the full echarts.min.js, loaded as the page did then, nothing compressed; "
                  "full build: today's page with the full echarts.min.js. "
                  f"Budget: plain resident pages ≤ 100 KB; the dashboard ≥ {SPEEDUP:g}× faster than its baseline.")
    return problems
