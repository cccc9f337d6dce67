"""Test harness: one real database per run, SQLite by default or PostgreSQL when
TONGBAN_TEST_DATABASE_URL points at one; every test starts from empty tables."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from tongban import testing
from tongban.core import masking, migrate, security
from tongban.core.clock import Frozen
from tongban.core.config import Settings, load_settings
from tongban.core.db import Database, set_database

security.use_fast_hashing()
# The key for keyed pseudonyms, as the app and the CLI set it from TONGBAN_SECRET_KEY.
masking.configure("test-secret-key-0123456789abcdef0123456789")


def _test_url(tmp_root: Path) -> str:
    url = os.environ.get("TONGBAN_TEST_DATABASE_URL", "")
    if not url or url == "sqlite":
        return f"sqlite:///{tmp_root / 'test.db'}"
    return url


def _ensure_pg_database(url: str) -> None:
    """Create the PostgreSQL test database if it is missing (each worktree may use its own)."""
    import psycopg

    u = make_url(url)
    admin = u.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    try:
        with psycopg.connect(admin, autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (u.database,)).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{u.database}"')  # noqa: S608 - name from our own env
    except psycopg.OperationalError:
        pass


def _reset_schema(db: Database) -> None:
    if db.is_sqlite:
        return
    with db.engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))


@pytest.fixture(scope="session")
def database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    root = tmp_path_factory.mktemp("db")
    url = _test_url(root)
    if url.startswith("postgres"):
        _ensure_pg_database(url)
    db = Database(url)
    _reset_schema(db)
    migrate.upgrade(db)
    set_database(db)
    yield db
    set_database(None)
    db.dispose()


@pytest.fixture()
def db(database: Database) -> Iterator[Database]:
    """The test database with every table empty (and the audit head reset)."""
    testing.empty_tables(database)
    yield database


@pytest.fixture()
def clock() -> Iterator[Frozen]:
    """The one clock (`tongban.core.clock`) held for this test at 10:00 Shanghai on Wednesday
    2025-06-11; `clock.set(date or aware datetime)` and `clock.advance(delta)` move it."""
    from tongban.core.clock import frozen

    with frozen(dt.date(2025, 6, 11)) as handle:
        yield handle


@pytest.fixture()
def settings(tmp_path: Path, database: Database) -> Settings:
    return load_settings(
        demo=True, database_url=database.url, var_dir=tmp_path / "var",
        secret_key="test-secret-key-0123456789abcdef0123456789", audit_sealer="inline",
    )


@pytest.fixture()
def app(db: Database, settings: Settings):  # type: ignore[no-untyped-def]
    from tongban.web.app import create_app

    return create_app(settings=settings, db=db)


@pytest.fixture()
def client(app):  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    with TestClient(app) as c:
        # Every response any test sees carries the security headers (issue #18 item 12).
        c.event_hooks["response"].append(_assert_security_headers)
        yield c


def _assert_security_headers(response) -> None:  # type: ignore[no-untyped-def]
    from tongban.webkit.headers import SECURITY_HEADERS

    for name, value in SECURITY_HEADERS:
        assert response.headers.get(name.decode()) == value.decode(), (
            f"{response.request.method} {response.request.url.path}: {name.decode()} missing")


@pytest.fixture()
def cli(db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Invoke the `tongban` command in-process against the test database: `cli("audit", "verify")`."""
    from typer.testing import CliRunner

    from tongban.cli import app as cli_app
    from tongban.core.config import get_settings

    monkeypatch.setenv("TONGBAN_DEMO", "1")
    monkeypatch.setenv("TONGBAN_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("TONGBAN_DATABASE_URL", db.url)
    get_settings.cache_clear()
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None):  # type: ignore[no-untyped-def]
        return runner.invoke(cli_app, list(args), input=input)

    yield invoke
    get_settings.cache_clear()
