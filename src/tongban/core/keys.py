"""Signing keys: Ed25519 key pairs in the configured key directory, one file pair per key id.

A purpose (audit, certificate, code) has one active key; `rotate` makes a new active key and
keeps the old ones, so everything they signed still verifies. Every signature names its key
id. Demo mode creates a purpose's first key on first use; otherwise a missing key is a
configuration error that tells the operator what to run.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from tongban.core import clock
from tongban.core.config import ConfigError

PURPOSES = ("audit", "certificate", "code")


@dataclass(frozen=True)
class KeyInfo:
    kid: str
    purpose: str
    active: bool
    created_at: str
    public_key_pem: str


class Keyring:
    """The key directory: `<kid>.key` (private, 0600), `<kid>.pub` (public), `active.json`."""

    def __init__(self, keys_dir: Path, *, demo: bool = False) -> None:
        self.dir = Path(keys_dir)
        self.demo = demo

    # -- reading ---------------------------------------------------------------------------
    def _active_map(self) -> dict[str, str]:
        path = self.dir / "active.json"
        if not path.exists():
            return {}
        data: dict[str, str] = json.loads(path.read_text())
        return data

    def active_kid(self, purpose: str) -> str:
        _check_purpose(purpose)
        kid = self._active_map().get(purpose)
        if kid and (self.dir / f"{kid}.key").exists():
            return kid
        if self.demo:
            return self.create(purpose)
        raise ConfigError(
            f"No active {purpose} signing key in {self.dir}. Run `tongban keys create --purpose {purpose}`."
        )

    def public_key(self, kid: str) -> Ed25519PublicKey | None:
        if not _safe_kid(kid):
            return None
        path = self.dir / f"{kid}.pub"
        if not path.exists():
            return None
        key = serialization.load_pem_public_key(path.read_bytes())
        return key if isinstance(key, Ed25519PublicKey) else None

    def list(self) -> list[KeyInfo]:
        active = set(self._active_map().values())
        out = []
        for pub in sorted(self.dir.glob("*.pub")) if self.dir.exists() else []:
            kid = pub.stem
            purpose = kid.split("-", 1)[0]
            created = dt.datetime.fromtimestamp(pub.stat().st_mtime, dt.UTC).isoformat()
            out.append(KeyInfo(kid, purpose, kid in active, created, pub.read_text()))
        return out

    # -- writing ---------------------------------------------------------------------------
    def create(self, purpose: str) -> str:
        """Make a new key pair for `purpose` and make it the active one."""
        _check_purpose(purpose)
        self.dir.mkdir(parents=True, exist_ok=True)
        kid = f"{purpose}-{clock.now():%Y%m%d%H%M%S}-{secrets.token_hex(3)}"
        key = Ed25519PrivateKey.generate()
        private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
        fd = os.open(self.dir / f"{kid}.key", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(private)
        public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                               serialization.PublicFormat.SubjectPublicKeyInfo)
        (self.dir / f"{kid}.pub").write_bytes(public)
        active = self._active_map()
        active[purpose] = kid
        tmp = self.dir / "active.json.tmp"
        tmp.write_text(json.dumps(active, indent=2, sort_keys=True))
        tmp.replace(self.dir / "active.json")
        return kid

    rotate = create

    # -- signing ---------------------------------------------------------------------------
    def sign(self, purpose: str, data: bytes) -> tuple[str, str]:
        """Sign with the purpose's active key; return (key id, base64 signature)."""
        kid = self.active_kid(purpose)
        key = serialization.load_pem_private_key((self.dir / f"{kid}.key").read_bytes(), password=None)
        assert isinstance(key, Ed25519PrivateKey)
        return kid, base64.b64encode(key.sign(data)).decode()

    def private_key(self, purpose: str) -> tuple[str, Ed25519PrivateKey]:
        """The purpose's active key id and private key, loaded once, for a caller that signs in
        bulk (e.g. issuing codes): `sign` reads the key file on every call."""
        kid = self.active_kid(purpose)
        return kid, self.load_private(kid)

    def load_private(self, kid: str) -> Ed25519PrivateKey:
        if not _safe_kid(kid):
            raise ValueError(f"bad key id {kid!r}")
        key = serialization.load_pem_private_key((self.dir / f"{kid}.key").read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError(f"key {kid} is not an Ed25519 key")
        return key

    def verify(self, kid: str, data: bytes, signature: str) -> bool:
        key = self.public_key(kid)
        if key is None:
            return False
        try:
            key.verify(base64.b64decode(signature), data)
        except (InvalidSignature, ValueError):
            return False
        return True


def _check_purpose(purpose: str) -> None:
    if purpose not in PURPOSES:
        raise ValueError(f"unknown key purpose {purpose!r}; one of {', '.join(PURPOSES)}")


def _safe_kid(kid: str) -> bool:
    return bool(kid) and all(c.isalnum() or c == "-" for c in kid)


def keyring_for(settings: object) -> Keyring:
    from tongban.core.config import Settings

    assert isinstance(settings, Settings) and settings.keys_dir is not None
    return Keyring(settings.keys_dir, demo=settings.demo)


def register_public_keys(session: object, keyring: Keyring) -> int:
    """Mirror the key directory's public keys into the `signing_key` table (for the API)."""
    from sqlalchemy.orm import Session

    from tongban.core.identity.models import SigningKey
    from tongban.core.timeutil import utcnow

    assert isinstance(session, Session)
    changed = 0
    for info in keyring.list():
        row = session.get(SigningKey, info.kid)
        if row is None:
            session.add(SigningKey(kid=info.kid, purpose=info.purpose, public_key_pem=info.public_key_pem,
                                   active=info.active))
            changed += 1
        elif row.active != info.active:
            row.active = info.active
            row.retired_at = None if info.active else utcnow()
            changed += 1
    session.flush()
    return changed
