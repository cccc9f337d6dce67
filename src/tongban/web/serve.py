"""`tongban serve`: the app's own command (it names the app factory, so it lives with the app)."""

from __future__ import annotations

import typer

from tongban.core import cliutil
from tongban.core.cliutil import fail


def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8000, help="Port."),
    workers: int = typer.Option(1, min=1, help="Worker processes (PostgreSQL only beyond 1)."),
) -> None:
    """Serve the web app and the API."""
    import uvicorn

    settings = cliutil.settings()
    if workers > 1 and settings.is_sqlite:
        fail("SQLite serves one process; use PostgreSQL for --workers > 1.")
    from tongban.core.logging import configure

    configure(settings.log_level)
    uvicorn.run("tongban.web.app:create_app", factory=True, host=host, port=port, workers=workers,
                access_log=False, log_config=None, proxy_headers=True)
