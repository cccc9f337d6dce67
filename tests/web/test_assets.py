"""Weight (issue #23): fingerprinted static assets cached for a year, compressed text answers."""

from __future__ import annotations

import gzip
import hashlib
import re
from pathlib import Path

from tongban.webkit import assets

STATIC = Path(__file__).resolve().parents[2] / "src" / "tongban" / "web" / "static"


def _digest(rel: str) -> str:
    return hashlib.sha256((STATIC / rel).read_bytes()).hexdigest()[:10]


def test_pages_name_assets_by_their_content_and_those_names_are_immutable(db, client):  # type: ignore[no-untyped-def]
    page = client.get("/login").text
    css = f"/static/css/tongban.{_digest('css/tongban.css')}.css"
    assert f'href="{css}"' in page
    assert f'src="/static/js/tongban.{_digest("js/tongban.js")}.js"' in page
    resp = client.get(css)
    assert resp.status_code == 200 and resp.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert resp.content == (STATIC / "css/tongban.css").read_bytes()
    # revalidated by its ETag, answered 304
    again = client.get(css, headers={"If-None-Match": resp.headers["etag"]})
    assert again.status_code == 304


def test_a_stale_or_unknown_fingerprint_is_never_cached_for_long(db, client):  # type: ignore[no-untyped-def]
    stale = client.get("/static/css/tongban.0123456789.css")
    assert stale.status_code == 200 and stale.headers["cache-control"] == "no-cache"
    assert client.get("/static/css/nothing.0123456789.css").status_code == 404
    plain = client.get("/static/css/tongban.css")
    assert plain.status_code == 200 and plain.headers["cache-control"] == "no-cache"
    assert client.get("/static/../pyproject.0123456789.toml").status_code == 404


def test_an_edited_file_gets_a_new_name(tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr(assets, "_root", tmp_path)
    (tmp_path / "a.css").write_text("body{}")
    first = assets.asset("a.css")
    (tmp_path / "a.css").write_text("body{color:red}")
    second = assets.asset("a.css")
    assert first != second and re.fullmatch(r"/static/a\.[0-9a-f]{10}\.css", second)
    assert assets.asset("missing.css") == "/static/missing.css"
    assert assets.fingerprint("../outside.css") is None


def test_text_answers_are_compressed_for_browsers_that_accept_gzip(db, client):  # type: ignore[no-untyped-def]
    resp = client.get("/static/css/tongban.css", headers={"Accept-Encoding": "gzip"})
    assert resp.headers["content-encoding"] == "gzip" and "accept-encoding" in resp.headers["vary"].lower()
    page = client.get("/login", headers={"Accept-Encoding": "gzip, br"})
    assert page.headers["content-encoding"] == "gzip"
    raw = client.get("/login", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in raw.headers and "<html" in raw.text
    # httpx decodes it for us; the bytes on the wire are gzip and smaller
    stream = client.get("/static/css/tongban.css", headers={"Accept-Encoding": "gzip"})
    assert len(gzip.compress(stream.content)) < len(stream.content)


def test_the_chart_pages_name_the_small_echarts_build_and_full_on_request(db, client):  # type: ignore[no-untyped-def]
    page = client.get("/login").text
    assert re.search(r'<meta name="tongban-echarts" content="/static/vendor/echarts\.[0-9a-f]{10}\.js">', page)
    full = client.get("/login?echarts=full").text
    assert re.search(r'<meta name="tongban-echarts" content="/static/vendor/echarts\.min\.[0-9a-f]{10}\.js">', full)
    assert "echarts" not in re.sub(r'<meta name="tongban-echarts"[^>]+>', "", page)  # never loaded up front
