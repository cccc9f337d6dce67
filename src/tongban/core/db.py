"""Database: engines, the declarative base, and the unit of work.

SQLite (WAL, foreign keys on) is the embedded default; PostgreSQL via psycopg 3 is the
production database. A request or a CLI command is one unit of work: one transaction,
committed at the end or rolled back whole.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import (
    BigInteger,
    DateTime,
    Engine,
    Integer,
    MetaData,
    Table,
    create_engine,
    event,
    func,
    select,
    text,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# BIGINT primary keys on PostgreSQL, INTEGER (rowid alias, autoincrementing) on SQLite.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Timezone-aware UTC datetimes on both databases (SQLite stores naive UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def all_tables() -> MetaData:
    """`Base.metadata` with every slice's tables in it (each slice names its models module in its
    declaration, core.slices). For code that looks a table up by name (exchange, quality rules,
    pack checks) without importing the slices that define it."""
    from tongban.core import slices

    slices.load_models()
    return Base.metadata


def table(name: str) -> Table:
    """The table `name`, whichever slice defines it (KeyError if none does)."""
    return all_tables().tables[name]


def normalise_url(url: str) -> str:
    """Accept plain `postgresql://` URLs and use psycopg 3 for them."""
    u = make_url(url)
    if u.drivername in ("postgresql", "postgres"):
        u = u.set(drivername="postgresql+psycopg")
    return u.render_as_string(hide_password=False)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def _sqlite_begin(conn: Any) -> None:
    immediate = conn.get_execution_options().get("tongban_unit_of_work", False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


PING_AFTER_IDLE_SECONDS = 1.0  # a pooled connection idle this long is pinged before use


def make_engine(url: str, **kw: Any) -> Engine:
    url = normalise_url(url)
    # Statement values never go into an error message or a log line: they may be personal data.
    kw.setdefault("hide_parameters", True)
    if url.startswith("sqlite"):
        path = make_url(url).database
        if path and path != ":memory:":
            from pathlib import Path

            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False}, **kw)
        event.listen(engine, "connect", _sqlite_pragmas)
        # Let SQLAlchemy own BEGIN so that one unit of work is one SQLite transaction. A unit of
        # work takes the write lock at its start (IMMEDIATE): in WAL mode a transaction that read
        # first and writes later fails at once ("database is locked", no retry) if another
        # connection wrote in between; waiting for the lock up front makes an orderly queue.
        # Plain `engine.connect()` reads stay deferred and never block writers.
        event.listen(engine, "begin", _sqlite_begin)

        @event.listens_for(engine, "connect")
        def _no_autobegin(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None

        return engine
    kw.setdefault("pool_size", 10)
    kw.setdefault("max_overflow", 10)
    engine = create_engine(url, **kw)
    if not kw.get("pool_pre_ping"):
        # Ping only a connection that sat idle in the pool (a server restart or an idle timeout
        # may have closed it): under load, a ping on every checkout was a round trip per request.
        @event.listens_for(engine, "checkin")
        def _note_checkin(_dbapi_conn: Any, record: Any) -> None:
            record.info["tongban.checked_in"] = time.monotonic()

        @event.listens_for(engine, "checkout")
        def _ping_if_idle(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
            checked_in = record.info.get("tongban.checked_in")
            if checked_in is None or time.monotonic() - checked_in < PING_AFTER_IDLE_SECONDS:
                return
            try:
                engine.dialect.do_ping(dbapi_conn)
            except Exception as exc:
                raise DisconnectionError("the pooled connection is gone") from exc  # the pool connects afresh
    return engine



class Database:
    """An engine and its session factory."""

    def __init__(self, url: str, **engine_kw: Any) -> None:
        self.url = normalise_url(url)
        self.engine = make_engine(self.url, **engine_kw)
        # Units of work run on an option-engine (same pool) that marks their transactions.
        self.sessionmaker = sessionmaker(self.engine.execution_options(tongban_unit_of_work=True),
                                         expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @contextmanager
    def unit_of_work(self) -> Iterator[Session]:
        """One transaction: committed when the block ends, rolled back on any exception."""
        session = self.sessionmaker()
        try:
            yield session
        except BaseException:
            self.end_unit_of_work(session, commit=False)
            raise
        self.end_unit_of_work(session, commit=True)

    def end_unit_of_work(self, session: Session, *, commit: bool) -> None:
        """Commit (then run the after-commit hooks) or roll back, and close."""
        try:
            if commit:
                session.commit()
            else:
                session.rollback()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()
        if commit:
            _after_commit_hooks(session)

    def dispose(self) -> None:
        self.engine.dispose()


def _after_commit_hooks(session: Session) -> None:
    for hook in session.info.pop("after_commit", []):
        hook()


def after_commit(session: Session, hook: Any) -> None:
    """Run `hook()` once this session's unit of work has committed (e.g. seal the audit chain)."""
    hooks = session.info.setdefault("after_commit", [])
    if hook not in hooks:
        hooks.append(hook)


_db: Database | None = None


def get_database() -> Database:
    global _db
    if _db is None:
        from tongban.core.config import get_settings

        _db = Database(get_settings().database_url)
    return _db


def set_database(db: Database | None) -> None:
    global _db
    _db = db


def reserve_ids(session: Any, table: Any, count: int) -> list[int]:
    """`count` new ids of `table`'s integer primary key `id`, for a bulk insert that names them
    (no RETURNING round trip per batch): drawn from the column's sequence on PostgreSQL; on
    SQLite, whose writer holds the database's one write lock for the transaction, the ids after
    the largest there is."""
    if count <= 0:
        return []
    if session.get_bind().dialect.name == "postgresql":
        seq = session.execute(text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": table.name}).scalar_one()
        return [int(i) for i in session.execute(text("SELECT nextval(CAST(:s AS regclass)) FROM generate_series(1, :n)"),
                                                {"s": seq, "n": count}).scalars()]
    top = session.execute(select(func.max(table.c.id))).scalar() or 0
    return list(range(int(top) + 1, int(top) + 1 + count))
