"""Request size limits at the ASGI layer (issue #18 item 4), before any route, the CSRF check
or the text boundary reads a body, so a caller who is not yet known cannot make the server read
and validate 50 MB:

- a body over `Settings.max_body_bytes` (material uploads: the largest a pack may declare plus
  the multipart envelope) → 413, refused on its Content-Length before a byte is read, or as
  soon as a streamed (chunked) body passes the limit;
- a URL-encoded form with more than `MAX_FIELDS` fields, or a field over `MAX_FIELD_BYTES`
  → 413 naming the field. Starlette's form parser holds the same limits (and the same for
  multipart); here they answer as problems instead of failing inside the CSRF middleware.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from tongban.core.i18n import N_, gettext
from tongban.webkit.problems import problem

MAX_FIELDS = 1000  # Starlette's FormParser/MultiPartParser default max_fields
MAX_FIELD_BYTES = 1024 * 1024  # their default max_part_size
UPLOAD_BYTES = 51200 * 1024 + 1024 * 1024  # services.materials.MAX_BYTES plus the multipart envelope
_UPLOAD_PATH = re.compile(r"^/api/v1/applications/[^/]+/materials$")
TOO_LARGE = N_("The request is too large")


def body_limit(scope: Mapping[str, Any], default: int) -> int:
    if scope["method"] == "POST" and _UPLOAD_PATH.match(scope.get("path", "")):
        return max(default, UPLOAD_BYTES)
    return default


def too_large(scope: Mapping[str, Any], detail: str, *, field: str = "body", code: str = "too_large") -> Any:
    title = gettext(TOO_LARGE)
    return problem(413, "too-large", title, detail, instance=scope.get("path"), field=field,
                   errors=[{"field": field, "message": detail, "code": code}])


def form_field_over_limits(body: bytes) -> tuple[str, str] | None:
    """(field, code) of the first URL-encoded field over the limits, or None."""
    parts = body.split(b"&")
    if len(parts) > MAX_FIELDS:
        return "body", "too_many_fields"
    for part in parts:
        name, _, value = part.partition(b"=")
        if len(value) > MAX_FIELD_BYTES or len(name) > MAX_FIELD_BYTES:
            from urllib.parse import unquote_plus

            return unquote_plus(name[:200].decode("latin-1")) or "body", "field_too_large"
    return None


class _TooLarge(Exception):
    pass


class BodyLimit:
    def __init__(self, app: Any, *, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = body_limit(scope, self.max_body_bytes)
        headers = dict(scope.get("headers", []))
        length = headers.get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > limit):
            await too_large(scope, _size_detail(limit))(scope, receive, send)
            return
        ctype = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
        if ctype == b"application/x-www-form-urlencoded":
            body, complete = await _read_up_to(receive, limit)
            if body is None:
                if not complete:
                    await too_large(scope, _size_detail(limit))(scope, receive, send)
                return
            found = form_field_over_limits(body)
            if found is not None:
                field, code = found
                detail = (gettext(N_("A form may have at most %(n)s fields")) % {"n": MAX_FIELDS}
                          if code == "too_many_fields" else
                          gettext(N_("This field may hold at most %(kb)s KB")) % {"kb": MAX_FIELD_BYTES // 1024})
                await too_large(scope, detail, field=field, code=code)(scope, receive, send)
                return
            await self.app(scope, _replay(body, receive), send)
            return
        # Any other body streams on, counted: past the limit the app sees the client gone and
        # the caller gets 413 (if nothing was answered yet).
        seen = 0
        refused = False
        started = False

        async def counted() -> dict[str, Any]:
            nonlocal seen, refused
            message: dict[str, Any] = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    refused = True
                    raise _TooLarge()
            return message

        async def guarded_send(message: dict[str, Any]) -> None:
            nonlocal started
            if refused:
                return  # the app's answer to a body cut short is replaced by the 413 below
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted, guarded_send)
        except Exception:
            if not refused:
                raise
        if refused and not started:
            await too_large(scope, _size_detail(limit))(scope, receive, send)


def form_limits_detail() -> str:
    return gettext(N_("A form may have at most %(n)s fields, each at most %(kb)s KB")) % {
        "n": MAX_FIELDS, "kb": MAX_FIELD_BYTES // 1024}


def _size_detail(limit: int) -> str:
    return gettext(N_("A request may be at most %(mb)s MB")) % {"mb": limit // (1024 * 1024)}


async def _read_up_to(receive: Any, limit: int) -> tuple[bytes | None, bool]:
    """(body, True), or (None, True) if the client went away, or (None, False) past `limit`."""
    chunks: list[bytes] = []
    seen = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None, True
        chunk = message.get("body", b"")
        seen += len(chunk)
        if seen > limit:
            return None, False
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks), True


def _replay(body: bytes, receive: Any) -> Any:
    sent = False

    async def replay() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        message: dict[str, Any] = await receive()
        return message

    return replay
