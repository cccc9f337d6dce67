"""The request boundary's text check: no NUL and no lone UTF-16 surrogate gets past it.

Neither is text. PostgreSQL refuses a NUL in any text value and no UTF-8 exists for a lone
surrogate, so either one, in any field of any request, used to reach the database driver or the
encoder and fail there (a 500) — or worse, be stored on SQLite and break a later step on the
way to PostgreSQL. Field rules (tongban.core.text) refuse them too; this pure ASGI middleware
refuses them once for every route, before a route or the CSRF check reads the request:

- a JSON body (`\\u0000`, or a `\\uD800`–`\\uDFFF` escape not paired) → 422 naming the field;
- a URL-encoded form body or a query string with `%00` → 422 naming the parameter;
- a path with a NUL → 404 (no resource has such a name).
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qsl

from tongban.core.i18n import N_, gettext
from tongban.core.text import TEXT_MESSAGE, unsafe_strings
from tongban.webkit.problems import problem

# Only a body holding one of these can carry a NUL or a lone surrogate; most bodies skip the parse.
_SUSPECT_JSON = re.compile(rb"\\u(?:0000|[dD][89a-fA-F][0-9a-fA-F]{2})")
_NUL_FORM = b"%00"


def _header(scope: dict[str, Any], name: bytes) -> bytes:
    for k, v in scope.get("headers", []):
        if k.lower() == name:
            return bytes(v)
    return b""


def _form_field_with_nul(raw: bytes) -> str | None:
    for key, value in parse_qsl(raw.decode("latin-1"), keep_blank_values=True):
        if "\x00" in key or "\x00" in value:
            return key.replace("\x00", "") or "body"
    return None


class TextBoundary:
    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if "\x00" in scope.get("path", ""):
            await problem(404, "not-found", gettext(N_("Not found")))(scope, receive, send)
            return
        query = scope.get("query_string", b"")
        if _NUL_FORM in query and (name := _form_field_with_nul(query)) is not None:
            await self._refuse(scope, receive, send, name)
            return
        ctype = _header(scope, b"content-type").split(b";")[0].strip().lower()
        is_json = ctype.endswith(b"json")
        if not is_json and ctype != b"application/x-www-form-urlencoded":
            await self.app(scope, receive, send)  # multipart and others stream on untouched
            return
        body, receive = await _buffered(receive)
        field: str | None = None
        if is_json and _SUSPECT_JSON.search(body):
            try:
                field = next(unsafe_strings(json.loads(body)), None)
            except ValueError:  # not JSON at all: the route reports that (422 json_invalid)
                field = None
            if field == "":
                field = "body"
        elif not is_json and _NUL_FORM in body:
            field = _form_field_with_nul(body)
        if field is not None:
            await self._refuse(scope, receive, send, field)
            return
        await self.app(scope, receive, send)

    @staticmethod
    async def _refuse(scope: dict[str, Any], receive: Any, send: Any, field: str) -> None:
        message = gettext(TEXT_MESSAGE)
        response = problem(422, "invalid", gettext(N_("The request is not valid")), message,
                           instance=scope.get("path"), field=field,
                           errors=[{"field": field, "message": message, "code": "free_text"}])
        await response(scope, receive, send)


async def _buffered(receive: Any) -> tuple[bytes, Any]:
    """Read the whole body, and a `receive` that hands it on as if it had not been read."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":  # the client went away: let the app see it
            return b"", _once(message, receive)
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    body = b"".join(chunks)
    return body, _once({"type": "http.request", "body": body, "more_body": False}, receive)


def _once(first: dict[str, Any], receive: Any) -> Any:
    sent = False

    async def again() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return first
        result: dict[str, Any] = await receive()
        return result

    return again
