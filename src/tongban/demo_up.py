"""`tongban demo up`: what `make run` runs — migrate, load the demo region and cast when the
database is empty, start the job worker, print the demo logins and serve the app."""

from __future__ import annotations

import os
import subprocess
import sys

import typer
from rich.table import Table
from sqlalchemy import func, select

from tongban.core import cliutil, migrate
from tongban.core.cliutil import console, fail


def up(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8000, help="Port."),
    worker: bool = typer.Option(True, help="Start the background job worker too."),
) -> None:
    """Set up and run the demo on http://HOST:PORT."""
    settings = cliutil.settings()
    if not settings.demo:
        fail("`demo up` runs only in demo mode (TONGBAN_DEMO=1).", cliutil.EXIT_CONFIG)
    db = cliutil.database()
    migrate.upgrade(db)
    console.print(f"database: {db.engine.url.render_as_string(hide_password=True)} (migrated)")

    from tongban.core.identity.models import PackRecord
    from tongban.demo import load_demo

    with db.unit_of_work() as session:
        empty = not session.scalar(select(func.count()).select_from(PackRecord))
        if empty:
            load_demo(session, settings)
            from tongban.cases.demo import seed_demo_cases

            seed_demo_cases(session)  # open, overdue and closed 12345 cases for the loop
            from tongban.ratings.demo import seed_demo as seed_demo_ratings

            seed_demo_ratings(session)  # the closed cases' 差评: a rectification in progress
            console.print("demo pack and cast loaded")
    _print_logins(settings.pack_dir)

    proc = None
    if worker:
        proc = subprocess.Popen([sys.executable, "-m", "tongban", "worker"], env=os.environ.copy())
        console.print(f"job worker started (pid {proc.pid})")
    try:
        from tongban.web.serve import serve

        console.print(f"serving on [bold]http://{host}:{port}[/]  (Ctrl-C to stop)")
        serve(host=host, port=port, workers=1)
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=10)


def _print_logins(pack_dir: object) -> None:
    """The demo logins from the pack's cast file (also listed in docs/demo.md)."""
    from pathlib import Path

    import yaml

    path = Path(str(pack_dir)) / "cast.yaml"
    if not path.exists():
        return
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    people = data.get("cast") or data.get("accounts") or []
    password = data.get("password") or ""
    table = Table("login", "password", "who", title="demo logins")
    for p in people:
        who = p.get("about") or p.get("description") or p.get("display_name") or ""
        if isinstance(who, dict):
            who = who.get("zh") or who.get("en") or ""
        table.add_row(str(p.get("username")), str(p.get("password") or password), str(who))
    console.print(table)
