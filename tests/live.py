"""Where the suite's live servers (`tongban.testing.LiveServer`) keep their databases, for the
browser tests, the API fuzzing and the load-and-crash test alike.

On the PostgreSQL leg each live server gets a database of its own beside the test database
(`<test database>_<name>`); on the SQLite leg a file under the test's temporary folder.
"""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy.engine import make_url

LEG_URL = os.environ.get("TONGBAN_TEST_DATABASE_URL", "")
ON_PG = LEG_URL.startswith("postgres")


def live_url(root: Path, name: str) -> str:
    """The database of the live server called `name`: `<test database>_<name>` on PostgreSQL, else
    `root/<name>.db`."""
    if ON_PG:
        u = make_url(LEG_URL)
        return u.set(database=f"{u.database}_{name}").render_as_string(hide_password=False)
    return f"sqlite:///{root / f'{name}.db'}"
