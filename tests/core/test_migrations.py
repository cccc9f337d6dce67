"""The migrations build exactly the schema the models declare: a model change without its
migration (or a migration the models don't know) fails here, on SQLite and on PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from tongban.core import migrate
from tongban.core.db import Base


def test_models_and_migrations_agree(database) -> None:  # type: ignore[no-untyped-def]
    import tongban.models  # noqa: F401  (every model registered on Base.metadata)

    with database.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": False})
        diff = compare_metadata(ctx, Base.metadata)
    assert diff == [], "models and migrations differ (add a migration):\n" + "\n".join(map(str, diff))


def test_database_is_at_every_head(database) -> None:  # type: ignore[no-untyped-def]
    assert migrate.at_head(database)
