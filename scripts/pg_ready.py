"""Exit 0 when the PostgreSQL server in argv[1] answers, 1 otherwise (used by `make test`)."""

import sys

import psycopg
from sqlalchemy.engine import make_url

url = make_url(sys.argv[1]).set(drivername="postgresql", database="postgres")
try:
    with psycopg.connect(url.render_as_string(hide_password=False), connect_timeout=3) as conn:
        conn.execute("SELECT 1")
except Exception as exc:  # noqa: BLE001 - any failure means "not reachable"
    print(f"PostgreSQL check failed: {type(exc).__name__}", file=sys.stderr)
    sys.exit(1)
