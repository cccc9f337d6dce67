"""Where uploaded files live: one `Storage` interface, content-addressed by SHA-256.

The local implementation keeps each blob once under `<var_dir>/blobs/ab/cd/<sha256>`, written to
a temporary file in the same directory and moved into place with `os.replace`, so a reader in
another process or job worker sees a whole file or none, and two writers of the same content
both succeed. Another backend (an object store) implements the same four methods.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from tongban.core.config import Settings

SHA256 = re.compile(r"^[0-9a-f]{64}$")


class Storage(Protocol):
    def put(self, data: bytes) -> str:
        """Store `data`; return its SHA-256 (hex), the key to read it back."""

    def get(self, sha256: str) -> bytes:
        """The stored bytes (FileNotFoundError if absent)."""

    def exists(self, sha256: str) -> bool: ...

    def delete(self, sha256: str) -> None: ...


class LocalStorage:
    """Blobs in a local directory (the default: `<var_dir>/blobs`)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def _path(self, sha256: str) -> Path:
        if not SHA256.match(sha256):
            raise ValueError("not a SHA-256 hex digest")
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def put(self, data: bytes) -> str:
        digest = hashlib.sha256(data).hexdigest()
        path = self._path(digest)
        if path.exists():
            try:  # fresh again: the orphan sweep leaves young blobs alone
                os.utime(path)
                return digest
            except FileNotFoundError:  # swept meanwhile: write it anew
                pass
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return digest

    def get(self, sha256: str) -> bytes:
        return self._path(sha256).read_bytes()

    def exists(self, sha256: str) -> bool:
        return self._path(sha256).exists()

    def delete(self, sha256: str) -> None:
        self._path(sha256).unlink(missing_ok=True)

    def iter_blobs(self) -> Iterator[tuple[str, float]]:
        """Every stored blob as (sha256, last modified, seconds since the epoch)."""
        if not self.root.is_dir():
            return
        for path in self.root.glob("[0-9a-f][0-9a-f]/[0-9a-f][0-9a-f]/*"):
            if SHA256.match(path.name):
                try:
                    yield path.name, path.stat().st_mtime
                except FileNotFoundError:
                    continue

    def delete_if_older(self, sha256: str, cutoff: float) -> bool:
        """Delete the blob if it was last written before `cutoff`; whether it was deleted."""
        path = self._path(sha256)
        try:
            if path.stat().st_mtime >= cutoff:
                return False
            path.unlink()
        except FileNotFoundError:
            return False
        return True

    def remove_stale_temporaries(self, cutoff: float) -> int:
        """Remove temporary files of writes interrupted before `cutoff` (a crash mid-`put`)."""
        removed = 0
        if not self.root.is_dir():
            return 0
        for path in self.root.glob("*/*/.tmp-*"):
            try:
                if path.stat().st_mtime < cutoff:
                    path.unlink()
                    removed += 1
            except FileNotFoundError:
                continue
        return removed


def storage_for(settings: Settings) -> Storage:
    """The configured storage: the local directory under the settings' var dir."""
    return LocalStorage(Path(settings.var_dir) / "blobs")
