"""Browser tests: Playwright for Python driving Debian's Chromium (never a downloaded browser),
headless, locale zh-CN, against a live server (`tongban.testing.LiveServer`: real `tongban serve`
and `tongban worker` processes on a demo database of their own).

They run once, on the PostgreSQL leg of `make test` (set TONGBAN_BROWSER=1 to run them on the
SQLite leg too, while developing). Where Chromium, a CJK font or Playwright is missing they are
skipped loudly, and fail instead under TONGBAN_REQUIRE_BROWSER=1 (as `.ci/run` sets).

Fixtures: `live_server` (its `.base` is the URL), `phone` (a resident's 390×844 page) and `desk`
(staff, 1440×900). Every page they open fails its test on a console error, an uncaught script
error, a failed request, a 5xx, a 4xx on a sub-resource, or any request to a host other than the
loopback — `watch.allow(regex)` lets a test accept one it provokes on purpose.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy.engine import make_url

from tongban import testing

HERE = Path(__file__).parent
REQUIRED = os.environ.get("TONGBAN_REQUIRE_BROWSER") == "1"
LEG_URL = os.environ.get("TONGBAN_TEST_DATABASE_URL", "")
ON_PG = LEG_URL.startswith("postgres")
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


def _missing() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright for Python is not installed (make setup installs it)"
    if not chromium_path():
        return "Debian's chromium is not installed (make test installs it when run as root)"
    if not _has_cjk_font():
        return "no CJK font is installed (fonts-wqy-microhei; make test installs it when run as root)"
    return None


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


def _live_url(root: Path) -> str:
    if ON_PG:
        u = make_url(LEG_URL)
        return u.set(database=f"{u.database}_live").render_as_string(hide_password=False)
    return f"sqlite:///{root / 'live.db'}"


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[testing.LiveServer]:
    """`tongban serve` and `tongban worker` on a demo database of their own, for the whole session:
    tests share it, so each works with its own data (or a cast member no other test uses)."""
    root = tmp_path_factory.mktemp("live")
    url = _live_url(root)
    testing.prepare(url, root / "var")
    with testing.LiveServer(url, root / "var") as live:
        yield live


# --- the browser ---------------------------------------------------------------------------------


@pytest.fixture(scope="session")
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


class Watch:
    """What went wrong on a page: console errors, script errors, failed requests, error statuses and
    any request that would leave the machine (those are aborted, never sent)."""

    def __init__(self, page: Any) -> None:
        self.problems: list[str] = []
        self._allowed: list[re.Pattern[str]] = []
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.problems.append(f"script error: {exc}"))
        page.on("requestfailed", self._failed)
        page.on("response", self._response)
        page.route("**/*", self._route)

    def allow(self, pattern: str) -> None:
        """Accept problems matching `pattern` (a regex), e.g. a 404 the test asks for on purpose."""
        self._allowed.append(re.compile(pattern))

    def _console(self, msg: Any) -> None:
        if msg.type == "error":
            self.problems.append(f"console error: {msg.text} ({msg.location.get('url', '')})")

    def _failed(self, request: Any) -> None:
        self.problems.append(f"request failed: {request.method} {request.url} ({request.failure})")

    def _response(self, response: Any) -> None:
        kind = response.request.resource_type
        if response.status >= 500 or (response.status >= 400 and kind != "document"):
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


def _page(browser: Any, live_server: testing.LiveServer, viewport: dict[str, int], *, mobile: bool) -> Iterator[Any]:
    context = browser.new_context(base_url=live_server.base, viewport=viewport, locale="zh-CN",
                                  timezone_id="Asia/Shanghai", is_mobile=mobile, has_touch=mobile,
                                  device_scale_factor=2 if mobile else 1)
    context.set_default_timeout(20_000)
    page = context.new_page()
    page.watch = Watch(page)
    try:
        yield page
        page.watch.check()
    finally:
        context.close()


@pytest.fixture()
def phone(browser: Any, live_server: testing.LiveServer) -> Iterator[Any]:
    """A resident's phone: 390×844, touch, zh-CN. `phone.watch` is its `Watch`."""
    yield from _page(browser, live_server, PHONE, mobile=True)


@pytest.fixture()
def desk(browser: Any, live_server: testing.LiveServer) -> Iterator[Any]:
    """A member of staff's desk screen: 1440×900, zh-CN. `desk.watch` is its `Watch`."""
    yield from _page(browser, live_server, DESK, mobile=False)
