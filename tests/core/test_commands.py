"""The core commands: version, migrate, user and client creation."""

from __future__ import annotations

from sqlalchemy import select

from tests.factories import seed_base
from tongban.core.identity.models import Account, ApiClient


def test_version(cli):  # type: ignore[no-untyped-def]
    r = cli("--version")
    assert r.exit_code == 0 and r.output.startswith("tongban ")


def test_migrate_is_idempotent(cli):  # type: ignore[no-untyped-def]
    r = cli("migrate")
    assert r.exit_code == 0, r.output
    assert "→" in r.output


def test_user_create_makes_a_working_staff_account(db, cli, client):  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        seed_base(s)
    r = cli("user", "create", "--username", "ops.root", "--name", "运维", "--department", "dept.haishu.mca",
            "--role", "platform_admin", "--password", "a-long-password")
    assert r.exit_code == 0, r.output
    tok = client.post("/api/v1/auth/token", data={"username": "ops.root", "password": "a-long-password"})
    assert tok.status_code == 200


def test_user_create_bad_input_exits_2_and_writes_nothing(db, cli):  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        seed_base(s)
    r = cli("user", "create", "--username", "x.y", "--name", "x", "--department", "dept.nowhere",
            "--password", "a-long-password")
    assert r.exit_code == 2
    assert "department" in r.output
    r = cli("user", "create", "--username", "x.y", "--name", "x", "--department", "dept.haishu.mca",
            "--role", "nope", "--password", "a-long-password")
    assert r.exit_code == 2
    with db.unit_of_work() as s:
        assert s.scalar(select(Account).where(Account.username == "x.y")) is None


def test_client_create_prints_a_secret_once(db, cli):  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        seed_base(s)
    r = cli("client", "create", "--client-id", "mca-feed", "--name", "feed", "--department", "dept.haishu.mca",
            "--scope", "exchange.read")
    assert r.exit_code == 0, r.output
    with db.unit_of_work() as s:
        c = s.scalar(select(ApiClient).where(ApiClient.client_id == "mca-feed"))
        assert c is not None and c.secret_hash not in r.output
