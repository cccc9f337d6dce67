"""Request size limits (issue #18 item 4): an oversized form field, too many fields or a huge
body answer 413 problem+json naming the field — anonymous `POST /login` included, where the CSRF
middleware used to parse the form outside the error handlers (500) — and a 50 MB body is
refused before the app reads it."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

MB = 1024 * 1024


def _login_form(client) -> dict[str, str]:  # type: ignore[no-untyped-def]
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    return {"username": "li.na", "csrf_token": token}


def _assert_413(resp, field: str) -> None:  # type: ignore[no-untyped-def]
    assert resp.status_code == 413, resp.text[:300]
    assert resp.headers["content-type"] == "application/problem+json"
    body = resp.json()
    assert body["type"].endswith("/too-large") and body["field"] == field


def test_a_two_megabyte_form_field_on_anonymous_login_is_413_naming_it(client):  # type: ignore[no-untyped-def]
    form = _login_form(client) | {"password": "x" * (2 * MB)}
    _assert_413(client.post("/login", data=form), "password")


def test_a_form_with_1001_fields_is_413(client):  # type: ignore[no-untyped-def]
    form = _login_form(client) | {f"f{i}": "1" for i in range(1001)}
    _assert_413(client.post("/login", data=form), "body")


def test_a_multipart_form_over_the_parser_limits_is_413_not_500(client):  # type: ignore[no-untyped-def]
    form = _login_form(client)
    files = [(f"f{i}", (None, "1")) for i in range(1001)] + [(k, (None, v)) for k, v in form.items()]
    _assert_413(client.post("/login", files=files), "body")
    big = [("password", (None, "x" * (2 * MB)))] + [(k, (None, v)) for k, v in form.items()]
    _assert_413(client.post("/login", files=big), "body")


def test_the_zh_cn_caller_reads_the_refusal_in_chinese(client):  # type: ignore[no-untyped-def]
    form = _login_form(client) | {"password": "x" * (2 * MB)}
    resp = client.post("/login", data=form, headers={"Accept-Language": "zh-CN"})
    assert resp.status_code == 413 and "KB" in resp.json()["detail"]
    assert re.search(r"[\u4e00-\u9fff]", resp.json()["title"])


def _send_fifty_megabytes(app, *, content_length: bool) -> tuple[int, int, dict[str, Any]]:  # type: ignore[no-untyped-def]
    """POST 50 MB of JSON in 1 MB chunks straight to the ASGI app; (status, chunks read, body)."""
    chunks_read = 0
    total = 50
    headers = [(b"content-type", b"application/json"), (b"host", b"testserver")]
    if content_length:
        headers.append((b"content-length", str(total * MB).encode()))
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
             "scheme": "http", "path": "/api/v1/auth/token", "raw_path": b"/api/v1/auth/token",
             "query_string": b"", "root_path": "", "headers": headers, "client": ("127.0.0.1", 1),
             "server": ("testserver", 80)}
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        nonlocal chunks_read
        if chunks_read >= total:
            await asyncio.sleep(3600)
        chunks_read += 1
        return {"type": "http.request", "body": b" " * MB, "more_body": chunks_read < total}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], chunks_read, json.loads(body)


def test_a_fifty_megabyte_body_is_refused_on_its_length_before_a_byte_is_read(client, app):  # type: ignore[no-untyped-def]
    status, read, body = _send_fifty_megabytes(app, content_length=True)
    assert (status, read) == (413, 0)
    assert body["type"].endswith("/too-large")


def test_a_streamed_fifty_megabyte_body_is_refused_once_past_the_limit(client, app):  # type: ignore[no-untyped-def]
    status, read, body = _send_fifty_megabytes(app, content_length=False)
    assert status == 413 and body["type"].endswith("/too-large")
    assert read <= 11  # 10 MB limit: the app stopped reading right after it


def test_a_material_upload_may_be_larger_than_the_default_limit(client):  # type: ignore[no-untyped-def]
    from tongban.webkit.limits import body_limit

    scope = {"method": "POST", "path": "/api/v1/applications/7/materials"}
    assert body_limit(scope, 10 * MB) > 50 * MB
    assert body_limit({"method": "POST", "path": "/api/v1/auth/token"}, 10 * MB) == 10 * MB
