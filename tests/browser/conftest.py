"""Browser tests: Playwright for Python driving Debian's Chromium (never a downloaded browser),
headless, locale zh-CN, against a live server (`tongban.testing.LiveServer`: real `tongban serve`
and `tongban worker` processes on a demo database of their own).

They run once, on the PostgreSQL leg of `make test` (set TONGBAN_BROWSER=1 to run them on the
SQLite leg too, while developing). Where Chromium, a CJK font or Playwright is missing they are
skipped loudly, and fail instead under TONGBAN_REQUIRE_BROWSER=1 (as `.ci/run` sets).

Fixtures: `live_server` (its `.base` is the URL), `phone` (a resident's 390×844 page) and `desk`
(staff, 1440×900). Every page they open fails its test on a console error, an uncaught script
error, a failed request, a 5xx, a 4xx on a sub-resource, any request to a host other than the
loopback, or a serious or critical accessibility violation found by axe-core (run in the page on
each load and htmx swap) — `watch.allow(regex)` lets a test accept one it provokes on purpose.

长辈版: a test marked `@pytest.mark.elder_too` runs twice, its `phone` in the standard pages and in
长辈版 (`phone.elder`; `helpers.sign_in` puts the account in the page's mode, as a person would
with the header's switch).
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.live import ON_PG, live_url
from tongban import testing

HERE = Path(__file__).parent
REQUIRED = os.environ.get("TONGBAN_REQUIRE_BROWSER") == "1"
FORCED = os.environ.get("TONGBAN_BROWSER") == "1"
PHONE = {"width": 390, "height": 844}
DESK = {"width": 1440, "height": 900}
LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}
_skipped: list[str] = []


def chromium_path() -> str | None:
    """Debian's Chromium: $TONGBAN_CHROMIUM, else `chromium` on the PATH."""
    return os.environ.get("TONGBAN_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


def _has_cjk_font() -> bool:
    if not shutil.which("fc-list"):
        return False
    out = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True, check=False)  # noqa: S607
    return bool(out.stdout.strip())


AXE = HERE / ".vendor" / "axe.min.js"  # vendored from npm's axe-core by scripts/build_assets.py


def _missing() -> str | None:
    if not AXE.exists():
        return "axe-core is not vendored (make assets)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright for Python is not installed (make setup installs it)"
    if not chromium_path():
        return "Debian's chromium is not installed (make test installs it when run as root)"
    if not _has_cjk_font():
        return "no CJK font is installed (fonts-wqy-microhei; make test installs it when run as root)"
    return None


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "elder_too: run this resident browser test in 长辈版 too")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "phone" in metafunc.fixturenames and metafunc.definition.get_closest_marker("elder_too"):
        metafunc.parametrize("resident_mode", ["standard", "elder"])


@pytest.fixture()
def resident_mode() -> str:
    """The resident's display of a test not marked `elder_too`: the standard pages."""
    return "standard"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    ours = [i for i in items if HERE in Path(str(i.path)).parents]
    if not ours:
        return
    if not (ON_PG or FORCED):
        skip = pytest.mark.skip(reason="the browser tests run once, on the PostgreSQL leg (TONGBAN_BROWSER=1 runs them here)")
        for item in ours:
            item.add_marker(skip)
        return
    why = _missing()
    if why and not REQUIRED:  # under TONGBAN_REQUIRE_BROWSER=1 the `browser` fixture fails instead
        _skipped.append(why)
        for item in ours:
            item.add_marker(pytest.mark.skip(reason=f"BROWSER TESTS SKIPPED: {why}"))


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _skipped:
        bar = "!" * 88
        terminalreporter.write_line(bar)
        terminalreporter.write_line(f"!! The browser tests were SKIPPED: {_skipped[0]}.")
        terminalreporter.write_line("!! Run `make test` as root to install them, or set TONGBAN_REQUIRE_BROWSER=1 to fail.")
        terminalreporter.write_line(bar)


# --- the server ----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[testing.LiveServer]:
    """`tongban serve` and `tongban worker` on a demo database of their own, for the whole session:
    tests share it, so each works with its own data (or a cast member no other test uses)."""
    root = tmp_path_factory.mktemp("live")
    url = live_url(root, "live")
    testing.prepare(url, root / "var")
    with testing.LiveServer(url, root / "var") as live:
        yield live


# --- the browser ---------------------------------------------------------------------------------


# One Playwright per test module, not per session: while the sync API runs it holds an asyncio loop
# as this thread's running loop, so a later test of another folder calling asyncio.run() would fail.
@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    why = _missing()
    if why:
        pytest.fail(f"TONGBAN_REQUIRE_BROWSER=1 but the browser tests cannot run: {why}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=chromium_path(), headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync",
                  "--disable-background-networking", "--disable-component-update"])
        yield chromium
        chromium.close()


# --- what a zh-CN page may show ---------------------------------------------------------------------
# On every load and after every htmx swap the page reports its visible text (and the words in
# placeholders, titles, labels and button values) through a binding — a script Playwright adds,
# so the page's strict CSP is untouched — and `words_problems` checks it: no English msgid of the
# catalogue left untranslated, no raw internal key or repr, no English word outside ALLOWED_WORDS.
ALLOWED_WORDS = frozenset(
    [w for line in (HERE / "allowed_words.txt").read_text(encoding="utf-8").splitlines()
                   for w in line.split("#", 1)[0].split()])
RAW = re.compile(
    r"<built-in method|<function |<bound method| object at 0x|\b(?:onething|item|policy|param|dept|element|"
    r"task|event|status|material)\.[a-z_]+|\b[a-z]+_[a-z0-9_]+\b|\{\s*\"|\bNone\b|\bTrue\b|\bFalse\b")
WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*[A-Za-z]|[A-Za-z]")
REPORT_TEXT = """
(() => {
  const report = () => {
    if (!document.body || !window.__tongbanText) return;
    const extra = [];
    for (const el of document.querySelectorAll('[placeholder],[title],[aria-label],[alt],input[type=submit][value],input[type=button][value]')) {
      for (const a of ['placeholder', 'title', 'aria-label', 'alt']) { const v = el.getAttribute(a); if (v) extra.push(v); }
      if (el.matches('input[type=submit],input[type=button]')) extra.push(el.value);
    }
    const html = document.documentElement;
    const codes = Array.from(document.querySelectorAll('code, kbd, samp')).map((e) => e.innerText.trim()).filter(Boolean);
    window.__tongbanText({url: location.href, lang: html ? (html.lang || '') : '', title: document.title,
                          text: document.body.innerText, extra: extra, codes: codes, type: document.contentType});
  };
  window.addEventListener('load', report);
  document.addEventListener('htmx:afterSettle', report);
})();
"""


# axe-core on every page: injected by Playwright (so the page's CSP is untouched), run after each
# load and htmx swap, one run at a time; serious and critical violations come back through a
# binding. `window.__tongbanAxeIdle()` resolves when the last run is done (checked at teardown).
AXE_RUN = """
(() => {
  if (window.top !== window) return;
  let chain = Promise.resolve();
  const run = () => {
    if (!window.axe && window.__tongbanAxeLoad) window.__tongbanAxeLoad();
    if (!window.axe || !window.__tongbanAxe || !document.body || document.contentType !== 'text/html') return;
    const url = location.href;
    chain = chain.then(() => window.axe.run(document, {resultTypes: ['violations']}))
      .then((r) => window.__tongbanAxe({url: url, violations: r.violations
        .filter((v) => v.impact === 'serious' || v.impact === 'critical')
        .map((v) => ({id: v.id, impact: v.impact, help: v.help,
                      nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' ') + ': ' + (n.failureSummary || '').split('\\n').slice(0, 2).join(' '))}))}))
      .catch((e) => { if (document.contentType === 'text/html') window.__tongbanAxe({url: url, error: String(e)}); });
  };
  window.__tongbanAxeIdle = () => chain;
  window.addEventListener('load', () => window.setTimeout(run, 0));
  document.addEventListener('htmx:afterSettle', run);
})();
"""


def _catalogue_msgids() -> frozenset[str]:
    """The English msgids of the zh_CN catalogue (those translated to something else)."""
    from babel.messages.pofile import read_po

    po = Path(__file__).resolve().parents[2] / "src/tongban/locale/zh_CN/LC_MESSAGES/messages.po"
    with po.open("rb") as fh:
        catalog = read_po(fh)
    out = set()
    for m in catalog:
        ids = m.id if isinstance(m.id, tuple) else (m.id,)
        for mid in ids:
            if mid and "%" not in mid and "{" not in mid and WORD.search(mid) and mid not in ALLOWED_WORDS:
                out.add(mid.strip())
    return frozenset(out)


MSGIDS = _catalogue_msgids()


def words_problems(report: dict[str, Any]) -> list[str]:
    """What is wrong with the words a zh-CN page shows (empty when all is well)."""
    if not str(report.get("lang", "")).lower().startswith("zh"):
        where = report.get("url", "")
        if "html" in str(report.get("type", "")):
            return [f"{where}: the page is not in Chinese (lang={report.get('lang')!r})"]
        return [f"{where}: a raw {report.get('type')} document, not a page"]
    url = report["url"]
    codes = sorted({str(c) for c in report.get("codes", [])}, key=len, reverse=True)
    lines = []
    for ln in str(report.get("text", "")).splitlines():
        for code in codes:  # an identifier shown as code (<code>: a dataset's id for API users) is meant
            ln = ln.replace(code, " ")
        lines.append(ln.strip())
    chunks = [c for c in [*lines, *[str(x).strip() for x in report.get("extra", [])], str(report.get("title", ""))] if c]
    found: list[str] = []
    for chunk in chunks:
        # a whole line or label that is a msgid of the catalogue, or one ending in a colon
        if chunk in MSGIDS or chunk.rstrip(":：") in MSGIDS:
            found.append(f"{url}: untranslated msgid {chunk!r}")
            continue
        raw = RAW.search(chunk)
        if raw:
            found.append(f"{url}: raw internal text {raw.group(0)!r} in {chunk[:120]!r}")
            continue
        english = [w for w in WORD.findall(chunk) if w not in ALLOWED_WORDS and w.lower() not in ALLOWED_WORDS]
        # a code mixing letters and digits (a certificate or receipt number) is not a word
        english = [w for w in english if not re.search(rf"[0-9-]{re.escape(w)}|{re.escape(w)}[0-9-]", chunk)]
        if english:
            found.append(f"{url}: English words {sorted(set(english))} in {chunk[:120]!r}")
    return found


class Watch:
    """What went wrong on a page: console errors, script errors, failed requests, error statuses,
    any request that would leave the machine (those are aborted, never sent) and, on each load and
    htmx swap, words a zh-CN page must not show (`words_problems`)."""

    def __init__(self, page: Any) -> None:
        self.problems: list[str] = []
        self._allowed: list[re.Pattern[str]] = []
        self.seen: list[str] = []
        self.axe_checked: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.problems.append(f"script error: {exc}"))
        page.on("requestfailed", self._failed)
        page.on("response", self._response)
        page.route("**/*", self._route)

    def text(self, _source: Any, report: dict[str, Any]) -> None:
        self.seen.append(str(report.get("url", "")))
        self.problems.extend(words_problems(report))

    def axe(self, _source: Any, report: dict[str, Any]) -> None:
        url = report.get("url", "")
        if report.get("error"):
            self.problems.append(f"axe could not check {url}: {report['error']}")
        for v in report.get("violations", []):
            self.problems.append(f"axe {v['impact']} {v['id']} ({v['help']}) on {url}: {'; '.join(v['nodes'])}")
        self.axe_checked.append(url)

    def allow(self, pattern: str) -> None:
        """Accept problems matching `pattern` (a regex), e.g. a 404 the test asks for on purpose."""
        self._allowed.append(re.compile(pattern))

    def _console(self, msg: Any) -> None:
        # "Failed to load resource" repeats what `_response` and `_failed` judge (a refused form is a
        # 422 page by design); every other console error is a fault
        if msg.type == "error" and not msg.text.startswith("Failed to load resource: the server responded"):
            self.problems.append(f"console error: {msg.text} ({msg.location.get('url', '')})")

    def _failed(self, request: Any) -> None:
        if "ERR_ABORTED" in str(request.failure) and request.resource_type != "document":
            return  # the page was left while it loaded (a test moves on faster than a person); not a fault
        self.problems.append(f"request failed: {request.method} {request.url} ({request.failure})")

    def _response(self, response: Any) -> None:
        kind = response.request.resource_type
        # a 422 answer to an htmx field check carries the field with its message: by design
        htmx_check = response.status == 422 and response.request.headers.get("hx-request") == "true"
        if response.status >= 500 or (response.status >= 400 and kind != "document" and not htmx_check):
            self.problems.append(f"HTTP {response.status}: {response.request.method} {response.url} ({kind})")

    def _route(self, route: Any) -> None:
        host = urlsplit(route.request.url).hostname or ""
        if route.request.url.startswith(("data:", "blob:")) or host in LOOPBACK:
            route.continue_()
        else:
            self.problems.append(f"a request left the machine: {route.request.url}")
            route.abort()

    def unexpected(self) -> list[str]:
        return [p for p in self.problems if not any(a.search(p) for a in self._allowed)]

    def check(self) -> None:
        bad = self.unexpected()
        assert not bad, "the page had problems:\n  " + "\n  ".join(bad)


def _page(browser: Any, live_server: testing.LiveServer, viewport: dict[str, int], *, mobile: bool,
          elder: bool | None = None) -> Iterator[Any]:
    context = browser.new_context(base_url=live_server.base, viewport=viewport, locale="zh-CN",
                                  timezone_id="Asia/Shanghai", is_mobile=mobile, has_touch=mobile,
                                  device_scale_factor=2 if mobile else 1)
    context.set_default_timeout(20_000)
    if elder is not None:  # the visitor's choice before signing in; sign_in settles the account's
        context.add_cookies([{"name": "tongban_elder", "value": "on" if elder else "off", "url": live_server.base}])
    page = context.new_page()
    page.watch = Watch(page)
    page.elder = elder
    context.expose_binding("__tongbanText", page.watch.text)
    context.expose_binding("__tongbanAxe", page.watch.axe)
    context.add_init_script(REPORT_TEXT)
    if os.environ.get("TONGBAN_AXE") != "0":  # TONGBAN_AXE=0: without axe, to tell what it changes
        context.add_init_script(_axe_wrapped())
        context.add_init_script(AXE_RUN)
    try:
        yield page
        _axe_settle(page)
        page.watch.check()
    finally:
        context.close()


@functools.cache
def _axe_wrapped() -> str:
    """axe-core inside a function the run calls first: a page only pre-parses it at its start, so
    the page (and htmx on it) is ready as soon as without it — a test typing right after a
    navigation must not race a 560 KB script."""
    return "window.__tongbanAxeLoad = function () {\n" + AXE.read_text(encoding="utf-8") + "\n};"


def _axe_settle(page: Any) -> None:
    """Wait for the axe run of the page on screen (a test may end right after its last load)."""
    from playwright.sync_api import Error

    if (urlsplit(page.url).hostname or "") not in LOOPBACK:
        return  # a browser error page (a test provoking one) or about:blank: nothing of ours
    try:
        page.wait_for_load_state("load")
        page.evaluate("() => new Promise((ok) => setTimeout(ok, 50)).then(() => window.__tongbanAxeIdle && window.__tongbanAxeIdle())")
    except Error:
        pass  # a closed page or a non-HTML document: nothing left to check


@pytest.fixture()
def phone(browser: Any, live_server: testing.LiveServer, resident_mode: str) -> Iterator[Any]:
    """A resident's phone: 390×844, touch, zh-CN. `phone.watch` is its `Watch`; `phone.elder` says
    whether it shows 长辈版 (tests marked `elder_too` run in both)."""
    yield from _page(browser, live_server, PHONE, mobile=True, elder=resident_mode == "elder")


@pytest.fixture()
def desk(browser: Any, live_server: testing.LiveServer) -> Iterator[Any]:
    """A member of staff's desk screen: 1440×900, zh-CN. `desk.watch` is its `Watch`."""
    yield from _page(browser, live_server, DESK, mobile=False)
