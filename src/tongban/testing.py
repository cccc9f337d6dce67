"""Real tongban processes for the tests and the benchmarks: `tongban serve` and `tongban worker`
started as operating-system processes on a free loopback port, against a fresh SQLite or
PostgreSQL database with the demo loaded, and stopped (or killed) by pid.

The live-server fixture of `tests/` and the benchmarks' servers both use this one launcher, so
what the browser tests, the load-and-crash test and `tongban bench …` drive is what an operator
runs: the same command line, the same environment variables, the same app factory.

    prepare("postgresql://postgres@127.0.0.1:5432/live", var_dir)   # empty it, migrate, load the demo
    with LiveServer("postgresql://…/live", var_dir) as live:
        httpx.get(live.base + "/healthz")
        live.kill_server()          # SIGKILL, as a crash would
        live.start_server()         # the same port again
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import IO

from sqlalchemy import text
from sqlalchemy.engine import make_url

from tongban.core.db import Database

# The secret the launched processes sign sessions and pseudonyms with (never a deployment's).
SECRET = "live-secret-key-0123456789abcdef0123456789"
# Every demo login uses this password (packs/demo/cast.yaml).
DEMO_PASSWORD = "tongban-demo"
# A busy machine (CI, two cores) can take a while to import the app.
START_TIMEOUT = 180.0


def free_port() -> int:
    """A loopback port nobody listens on now (the OS picks it)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def ensure_pg_database(url: str) -> None:
    """Create the PostgreSQL database of `url` if it is missing."""
    import psycopg

    u = make_url(url)
    admin = u.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (u.database,)).fetchone():
            conn.execute(f'CREATE DATABASE "{u.database}"')  # noqa: S608 - a name from our own options


def empty_database(url: str) -> None:
    """Drop everything in the database at `url` (a SQLite file is deleted)."""
    if url.startswith("sqlite"):
        path = make_url(url).database
        if path:
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(path + suffix).unlink(missing_ok=True)
        return
    from tongban.core.db import Database

    ensure_pg_database(url)
    db = Database(url)
    try:
        with db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    finally:
        db.dispose()


def empty_tables(db: Database) -> None:
    """Every table of a schema at the newest migration emptied — quicker than dropping it and
    migrating again — and the audit chain's head reset as the first migration leaves it."""
    from tongban.models import metadata

    names = [t.name for t in reversed(metadata.sorted_tables)]
    with db.engine.begin() as conn:
        if db.is_sqlite:
            for name in names:
                conn.execute(text(f'DELETE FROM "{name}"'))  # noqa: S608 - our own table names
        else:
            conn.execute(text("TRUNCATE " + ", ".join(f'"{n}"' for n in names) + " RESTART IDENTITY CASCADE"))
        conn.execute(text("INSERT INTO audit_head (id, seq, hash) VALUES (:t, 0, :h)"), {"t": True, "h": "0" * 64})


def prepare(url: str, var_dir: Path, *, secret: str = SECRET, persons: int = 0, seed: int = 11) -> None:
    """An empty database at `url` with the schema, the demo pack and cast and, when `persons` > 0,
    a synthetic city of that many people on the demo's communities."""
    from tongban.core import masking, migrate
    from tongban.core.config import load_settings
    from tongban.core.db import Database
    from tongban.demo import load_demo

    empty_database(url)
    var_dir.mkdir(parents=True, exist_ok=True)
    db = Database(url)
    try:
        migrate.upgrade(db)
        masking.configure(secret)
        settings = load_settings(demo=True, database_url=url, var_dir=var_dir, secret_key=secret)
        with db.unit_of_work() as s:
            load_demo(s, settings)
        if persons:
            from tongban.registry import generator, loader

            config = generator.CityConfig(persons=persons, seed=seed, communities=tuple(loader.community_codes(db)),
                                          as_of=dt.date(2026, 6, 30), shapes=loader.community_shapes(db))
            loader.load(db, generator.generate(config))
    finally:
        db.dispose()


def wait_ready(base: str, proc: subprocess.Popen[bytes], *, path: str = "/healthz", log: str = "",
               timeout: float = START_TIMEOUT) -> None:
    """Wait until `base + path` answers below 500; raise if the process exits or time runs out."""
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        try:
            if httpx.get(base + path, timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    code = proc.poll()
    raise RuntimeError(f"the server at {base} did not start (exit code {code}); its log: {log}")


def _stop(proc: subprocess.Popen[bytes] | None, *, kill: bool = False) -> None:
    if proc is None or proc.poll() is not None:
        return
    if kill:
        proc.send_signal(signal.SIGKILL)
    else:
        proc.terminate()
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(15)


class Uvicorn:
    """Any ASGI app under uvicorn on a free loopback port (one worker, no access log): the
    benchmarks' calibration app. tongban itself is started by `LiveServer`, as its operator would."""

    def __init__(self, target: list[str], *, env: dict[str, str], cwd: Path | None = None,
                 ready_path: str = "/healthz") -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self._log: IO[bytes] = tempfile.NamedTemporaryFile(prefix="tongban-uvicorn-", suffix=".log", delete=False)  # noqa: SIM115
        self.proc = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            [sys.executable, "-m", "uvicorn", *target, "--host", "127.0.0.1", "--port", str(self.port),
             "--workers", "1", "--no-access-log", "--log-level", "warning"],
            env={**os.environ, **env}, cwd=cwd, stdout=self._log, stderr=subprocess.STDOUT)
        try:
            wait_ready(self.base, self.proc, path=ready_path, log=self._log.name)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        _stop(self.proc)

    def __enter__(self) -> Uvicorn:
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()


class LiveServer:
    """`tongban serve` (and `tongban worker`) as real processes on one loopback port against the
    database at `url`, which `prepare` has set up. Kill and restart either at will: the port,
    database and var folder stay, as they would for an operator's restarted service."""

    def __init__(self, url: str, var_dir: Path, *, secret: str = SECRET, worker: bool = True,
                 env: dict[str, str] | None = None, port: int | None = None,
                 worker_args: tuple[str, ...] = ()) -> None:
        self.url = url
        self.var_dir = var_dir
        self.port = port or free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "TONGBAN_DATABASE_URL": url, "TONGBAN_DEMO": "1", "TONGBAN_VAR_DIR": str(var_dir),
            "TONGBAN_SECRET_KEY": secret, "TONGBAN_LOG_LEVEL": "WARNING", **(env or {}),
        }
        self.env.pop("TONGBAN_TEST_DATABASE_URL", None)
        self.with_worker = worker
        self.worker_args = worker_args  # more `tongban worker` options, e.g. ("--lease", "5")
        self.server: subprocess.Popen[bytes] | None = None
        self.worker: subprocess.Popen[bytes] | None = None
        self.log_path = var_dir / "live-server.log"
        self.worker_log_path = var_dir / "live-worker.log"

    # --- the processes ---------------------------------------------------------------------------

    def _spawn(self, args: list[str], log: Path) -> subprocess.Popen[bytes]:
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("ab") as out:
            return subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
                [sys.executable, "-m", "tongban", *args], env=self.env, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True)

    def start_server(self) -> None:
        """Start `tongban serve` on this server's port and wait until `/healthz` answers."""
        if self.server is not None and self.server.poll() is None:
            return
        self.server = self._spawn(["serve", "--host", "127.0.0.1", "--port", str(self.port)], self.log_path)
        try:
            wait_ready(self.base, self.server, log=str(self.log_path))
        except BaseException:
            _stop(self.server, kill=True)
            raise

    def start_worker(self) -> None:
        """Start `tongban worker` (polling every 0.2 s when idle, plus `worker_args`)."""
        if self.worker is not None and self.worker.poll() is None:
            return
        self.worker = self._spawn(["worker", "--idle-sleep", "0.2", *self.worker_args], self.worker_log_path)

    def start(self) -> LiveServer:
        self.start_server()
        if self.with_worker:
            self.start_worker()
        return self

    def kill_server(self) -> None:
        """SIGKILL the server, as a crash or the OOM killer would: no shutdown, no clean-up."""
        _stop(self.server, kill=True)

    def kill_worker(self) -> None:
        """SIGKILL the worker mid-job."""
        _stop(self.worker, kill=True)

    def stop(self) -> None:
        """Stop both gracefully (SIGTERM, then SIGKILL after 15 s)."""
        _stop(self.worker)
        _stop(self.server)

    def log(self) -> str:
        """What the server has written to its log so far."""
        return self.log_path.read_text(encoding="utf-8", errors="replace") if self.log_path.exists() else ""

    def __enter__(self) -> LiveServer:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *_: object) -> None:
        self.stop()
