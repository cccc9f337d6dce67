"""Static assets under fingerprinted names, cached for a year.

Templates name an asset through `asset("css/tongban.css")` (a Jinja global), which answers
`/static/css/tongban.<10 hex of its SHA-256>.css`. `FingerprintedStatic` serves such a name from the
file without the fingerprint, with `Cache-Control: public, max-age=31536000, immutable` when the
fingerprint is the file's current one (a stale name still gets the file, but `no-cache`); a plain
name (`/static/favicon.svg`, a script loading another by its data attribute) is revalidated with
its ETag. The hash is taken when the file is first asked for and again whenever its size or
modification time changes, so an edited file is never served under an old name.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
from pathlib import Path
from typing import Any

from starlette.responses import Response
from starlette.staticfiles import StaticFiles

PREFIX = "/static/"
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
_NAME = re.compile(r"^(?P<stem>.+)\.(?P<hash>[0-9a-f]{10})(?P<ext>\.[A-Za-z0-9]+)$")
_root: Path | None = None
_hashes: dict[str, tuple[int, int, str]] = {}
_lock = threading.Lock()


def configure(static_dir: Path) -> None:
    """The folder `asset()` names files in (the app's static folder, mounted at /static)."""
    global _root
    _root = static_dir


def fingerprint(path: str) -> str | None:
    """The first 10 hex digits of the SHA-256 of static file `path`, or None if there is none."""
    if _root is None:
        return None
    file = (_root / path).resolve()
    if _root.resolve() not in file.parents:
        return None
    try:
        stat = file.stat()
    except OSError:
        return None
    key = str(file)
    cached = _hashes.get(key)
    if cached and cached[:2] == (stat.st_mtime_ns, stat.st_size):
        return cached[2]
    digest = hashlib.sha256(file.read_bytes()).hexdigest()[:10]
    with _lock:
        _hashes[key] = (stat.st_mtime_ns, stat.st_size, digest)
    return digest


def asset(path: str) -> str:
    """`/static/<path>` under its fingerprinted name (the plain name if the file is missing)."""
    digest = fingerprint(path)
    if digest is None:
        return PREFIX + path
    stem, dot, ext = path.rpartition(".")
    return f"{PREFIX}{stem}.{digest}.{ext}" if dot else f"{PREFIX}{path}.{digest}"


class FingerprintedStatic(StaticFiles):
    """StaticFiles that also answers fingerprinted names (see the module doc)."""

    async def get_response(self, path: str, scope: Any) -> Response:
        match = _NAME.match(path.replace(os.sep, "/"))
        if match and not (Path(str(self.directory)) / path).exists():
            real = match["stem"] + match["ext"]
            response = await super().get_response(real, scope)
            if response.status_code in (200, 304):
                current = fingerprint(real)
                response.headers["Cache-Control"] = IMMUTABLE if current == match["hash"] else REVALIDATE
            return response
        response = await super().get_response(path, scope)
        if response.status_code in (200, 304):
            response.headers.setdefault("Cache-Control", REVALIDATE)
        return response
