"""Security headers (issue #18 item 12): every response carries the Content-Security-Policy,
frame refusal, nosniff and referrer policy (the `client` fixture checks each response any test
sees); the templates hold nothing the policy would block, so the pages still work under it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import tongban.web
from tests.factories import make_resident, seed_base, web_login

TEMPLATES = Path(tongban.web.__file__).resolve().parent / "templates"
INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I)
EVENT_ATTRIBUTE = re.compile(r"\son[a-z]+\s*=", re.I)


@pytest.mark.parametrize("path", ["/login", "/api/v1/docs", "/api/v1/openapi.json", "/healthz",
                                  "/static/css/tongban.css", "/no-such-page"])
def test_pages_static_files_and_errors_carry_the_security_headers(client, path):  # type: ignore[no-untyped-def]
    resp = client.get(path)
    csp = resp.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp and "style-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert resp.headers["x-frame-options"] == "DENY"
    assert resp.headers["x-content-type-options"] == "nosniff"
    assert resp.headers["referrer-policy"] == "same-origin"


def test_signed_in_pages_carry_the_security_headers(db, client):  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        seed_base(s)
        make_resident(s, "li.na", id_number="330203199001011237")
    web_login(client, "li.na")
    resp = client.get("/portal")
    assert resp.status_code == 200
    assert "frame-ancestors 'none'" in resp.headers["content-security-policy"]


@pytest.mark.parametrize("template", sorted(TEMPLATES.rglob("*.html")), ids=lambda p: p.name)
def test_no_template_holds_what_the_policy_blocks(template):  # type: ignore[no-untyped-def]
    text = template.read_text(encoding="utf-8")
    assert not INLINE_SCRIPT.search(text), "inline <script>: move it to /static/js"
    assert not EVENT_ATTRIBUTE.search(text), "on…= attribute: wire it in /static/js"
    assert "<style" not in text, "inline <style>: move it to /static/css"
    assert not re.search(r"\sstyle\s*=", text), "style attribute: use a class in /static/css"


def test_api_docs_load_only_local_assets(client):  # type: ignore[no-untyped-def]
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    urls = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert urls and all(u.startswith("/static/") for u in urls), urls
    assert "cdn" not in page.text.lower()
    assert not INLINE_SCRIPT.search(page.text)
    for url in urls:
        assert client.get(url).status_code == 200, url
