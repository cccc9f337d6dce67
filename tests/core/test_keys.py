"""Signing keys: demo creation, refusal outside demo, rotation, API."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.factories import make_resident, make_staff, seed_base, token_for
from tongban.core.config import ConfigError
from tongban.core.keys import Keyring


def test_demo_creates_a_key_on_first_use(tmp_path: Path) -> None:
    ring = Keyring(tmp_path / "k", demo=True)
    kid, sig = ring.sign("certificate", b"hello")
    assert kid.startswith("certificate-") and ring.verify(kid, b"hello", sig)
    assert not ring.verify(kid, b"hullo", sig)
    assert oct((tmp_path / "k" / f"{kid}.key").stat().st_mode & 0o777) == "0o600"


def test_missing_key_outside_demo_is_a_clear_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="tongban keys create --purpose audit"):
        Keyring(tmp_path / "k", demo=False).sign("audit", b"x")


def test_old_signatures_verify_after_rotation(tmp_path: Path) -> None:
    ring = Keyring(tmp_path / "k", demo=False)
    ring.create("code")
    kid1, sig1 = ring.sign("code", b"payload")
    ring.rotate("code")
    kid2, sig2 = ring.sign("code", b"payload")
    assert kid1 != kid2
    assert ring.verify(kid1, b"payload", sig1) and ring.verify(kid2, b"payload", sig2)
    assert [k.active for k in ring.list() if k.kid == kid1] == [False]


def test_unknown_or_hostile_kid_does_not_verify(tmp_path: Path) -> None:
    ring = Keyring(tmp_path / "k", demo=True)
    _kid, sig = ring.sign("audit", b"x")
    assert not ring.verify("../../etc/passwd", b"x", sig)
    assert not ring.verify("audit-nope", b"x", sig)


def test_key_api(db, client):  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        seed_base(s)
        make_staff(s, "root", department_id="dept.haishu.mca", roles=["platform_admin"])
        make_resident(s, "li.na")
    admin = token_for(client, "root")
    r = client.post("/api/v1/admin/keys/rotate", json={"purpose": "certificate"}, headers=admin)
    assert r.status_code == 201 and r.json()["active"]
    r = client.post("/api/v1/admin/keys/rotate", json={"purpose": "weather"}, headers=admin)
    assert r.status_code == 422 and r.json()["field"] == "purpose"
    resident = token_for(client, "li.na")
    assert client.post("/api/v1/admin/keys/rotate", json={"purpose": "code"}, headers=resident).status_code == 403
    pub = client.get("/api/v1/keys/public", headers=resident).json()["items"]
    assert pub and all("PRIVATE" not in k["public_key_pem"] for k in pub)


def test_keys_cli(db, cli):  # type: ignore[no-untyped-def]
    r = cli("keys", "create", "--purpose", "certificate")
    assert r.exit_code == 0, r.output
    r = cli("keys", "list")
    assert "certificate-" in r.output
    assert cli("keys", "create", "--purpose", "nope").exit_code == 2
