"""Regenerate docs/screenshots/*.png: the main pages of the demo, as a resident sees them on a phone
and an officer at a desk. Usage: `.venv/bin/python scripts/screenshots.py [--out DIR] [--db URL]`.

A fresh demo behind a live server (`tongban.testing.LiveServer`, the worker too), Debian's Chromium
through Playwright; 张明 applies for 出生一件事, the five departments decide, the certificates reach
his wallet — each page on the way is captured. Pages not built yet (a 404) are skipped and named.
The PNGs are phone-size at 1× and reduced to a 96-colour palette (Pillow), a few tens of KB each.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import os
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PHONE = {"width": 390, "height": 844}
DESK = {"width": 1024, "height": 720}
COLOURS = 96


def _save(page: Any, out: Path, name: str, *, full: bool = False) -> None:
    from PIL import Image

    page.wait_for_load_state("networkidle")
    raw = page.screenshot(full_page=full, animations="disabled", caret="hide")
    image = Image.open(io.BytesIO(raw)).convert("RGB").quantize(colors=COLOURS, method=Image.Quantize.MEDIANCUT)
    if full and image.height > 2400:
        image = image.crop((0, 0, image.width, 2400))
    path = out / f"{name}.png"
    image.save(path, optimize=True)
    print(f"  {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}  {path.stat().st_size // 1024} KB")


def _context(browser: Any, base: str, viewport: dict[str, int]) -> Any:
    context = browser.new_context(base_url=base, viewport=viewport, locale="zh-CN", timezone_id="Asia/Shanghai",
                                  device_scale_factor=1, is_mobile=viewport is PHONE, has_touch=viewport is PHONE)
    context.set_default_timeout(30_000)
    return context


def _sign_in(page: Any, username: str, *, elder: bool | None = None) -> None:
    from tongban import testing

    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", testing.DEMO_PASSWORD)
    with page.expect_navigation():
        page.press("#password", "Enter")
    if elder is not None and page.evaluate("document.documentElement.classList.contains('elder')") != elder:
        with page.expect_navigation():
            page.get_by_role("button", name="长辈版").click()


def _optional(page: Any, path: str) -> bool:
    response = page.goto(path)
    if response is None or response.status == 404:
        print(f"  (skipped {path}: not built yet)")
        return False
    return True


def _decide(page: Any, app_id: int) -> None:
    page.goto("/workbench/tasks")
    row = page.locator(f'tr[data-application="{app_id}"]')
    if not row.count():
        page.goto("/workbench/tasks?tab=mine")
    with page.expect_navigation():
        row.locator("a").first.click()
    page.get_by_label("通过", exact=True).check()
    with page.expect_navigation():
        page.get_by_role("button", name="提交办理意见").click()


def run(out: Path, db_url: str | None) -> None:
    from playwright.sync_api import sync_playwright

    from tongban import testing

    out.mkdir(parents=True, exist_ok=True)
    chromium = os.environ.get("TONGBAN_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        sys.exit("Debian's chromium is needed (apt-get install chromium)")
    with tempfile.TemporaryDirectory(prefix="tongban-shots-") as tmp:
        url = db_url or f"sqlite:///{Path(tmp) / 'shots.db'}"
        print(f"preparing the demo on {url.split('@')[-1]} …")
        testing.prepare(url, Path(tmp) / "var")
        with testing.LiveServer(url, Path(tmp) / "var") as live, sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, headless=True,
                                        args=["--no-sandbox", "--disable-gpu", "--no-first-run",
                                              "--disable-background-networking", "--disable-component-update"])
            try:
                _shoot(browser, live.base, out)
            finally:
                browser.close()


def _shoot(browser: Any, base: str, out: Path) -> None:
    phone_ctx = _context(browser, base, PHONE)
    phone = phone_ctx.new_page()
    desk_ctx = _context(browser, base, DESK)
    desk = desk_ctx.new_page()

    # 长辈版 home (陈秀英), then the standard portal home (张明)
    _sign_in(phone, "resident.chen", elder=True)
    _save(phone, out, "elder-home")
    phone_ctx.clear_cookies()
    _sign_in(phone, "resident.zhang", elder=False)
    _save(phone, out, "portal-home")
    if _optional(phone, "/search?q=" + "出生"):
        _save(phone, out, "search-results")
    if _optional(phone, "/guide/item.birth-certificate"):
        _save(phone, out, "guide")

    # the merged form of 出生一件事, prefilled, then submitted
    phone.goto("/portal/apply/onething.birth")
    with phone.expect_navigation():
        phone.get_by_role("button", name="同意并预填").click()
    born = dt.datetime.now(dt.UTC).astimezone(dt.timezone(dt.timedelta(hours=8))).date() - dt.timedelta(days=3)
    phone.fill("#child_name", "张小安")
    phone.locator("#child_sex").select_option(label="男")
    phone.fill("#child_birth_date", born.isoformat())
    phone.fill("#child_birth_place", "宁波市妇女儿童医院")
    phone.fill("#mailing_address", "解放南路128号5幢1单元302室")
    _save(phone, out, "merged-form")
    with phone.expect_navigation():
        phone.get_by_role("button", name="一次提交").click()
    app_id = int(phone.locator(".submitted .receipt").inner_text())

    # the workbench: the queue and a task page, then every department decides
    _sign_in(desk, "officer.health")
    desk.goto("/workbench/tasks")
    _save(desk, out, "workbench-queue")
    with desk.expect_navigation():
        desk.locator(f'tr[data-application="{app_id}"] a').first.click()
    _save(desk, out, "task-page")
    for officer, steps in (("officer.health", 1), ("officer.cdc", 1), ("officer.police", 1), ("officer.police2", 1),
                           ("officer.medinsure", 1), ("officer.hrss", 1)):
        desk_ctx.clear_cookies()
        _sign_in(desk, officer)
        for _ in range(steps):
            _decide(desk, app_id)

    # the resident's progress, the wallet with its QR codes, the public check of one certificate
    phone.goto(f"/portal/applications/{app_id}")
    _save(phone, out, "progress")
    for _ in range(30):  # certificates are issued by the worker's job
        phone.goto("/portal/wallet")
        if phone.locator("li.cert").count():
            break
        time.sleep(1)
    card = phone.locator("li.cert").first
    card.scroll_into_view_if_needed()
    phone.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=card.locator(".cert-qr img").element_handle())
    phone.evaluate("el => window.scrollTo(0, el.getBoundingClientRect().top + window.scrollY - 8)", card.element_handle())
    _save(phone, out, "wallet-card")
    with phone.expect_navigation():
        card.get_by_role("link", name="打开证照验证页").click()
    _save(phone, out, "verify")

    # open data, as a visitor
    phone_ctx.clear_cookies()
    phone.goto("/open")
    _save(phone, out, "open-data")
    phone_ctx.close()
    desk_ctx.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--db", default=None, help="a scratch database for the demo (default: SQLite); EMPTIED")
    args = parser.parse_args()
    started = time.monotonic()
    run(args.out, args.db)
    names = sorted(p.name for p in args.out.glob("*.png"))
    print(f"{len(names)} screenshots in {args.out} ({time.monotonic() - started:.0f} s): {', '.join(names)}")
    assert all(re.fullmatch(r"[a-z-]+\.png", n) for n in names)


if __name__ == "__main__":
    main()
