"""The migration 0025_ratings takes the case engine's ratings over: each rated case of a database
at 0024 becomes a rating of the ratings slice (online or visit), the unrated ones none — on a
database of its own beside the test database (SQLite file or `<test database>_ratings_mig`)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import sqlalchemy as sa

from tests.conftest import _ensure_pg_database, _reset_schema
from tests.live import live_url
from tongban.core import migrate
from tongban.core.db import Database


def test_the_rated_cases_become_ratings(tmp_path: Path) -> None:
    url = live_url(tmp_path, "ratings_mig")
    if url.startswith("postgres"):
        _ensure_pg_database(url)
    db = Database(url)
    try:
        _reset_schema(db)
        migrate.upgrade(db, "0024_merge")
        at = dt.datetime(2026, 12, 1, 2, 0, tzinfo=dt.UTC)
        case = sa.table("case_case", *(sa.column(n) for n in (
            "id", "public_id", "kind", "type", "category_id", "description", "region_code", "channel", "anonymous",
            "filed_by", "status", "department_id", "assist_department_ids", "clock_started_on", "due_date",
            "supervisions", "rating", "rating_source", "closed_at", "visited_at", "version", "created_at",
            "updated_at")))
        with db.engine.begin() as c:
            c.execute(sa.text("INSERT INTO case_category (id, kind, default_type, definition, pack_id) "
                              "VALUES ('case.food', 'hotline', 'complaint', :d, 'p')"),
                      {"d": '{"title": {"zh": "食品安全", "en": "Food safety"}}'})
            for i, (rating, source) in enumerate(((4, "resident"), (1, "visit"), (None, None)), start=1):
                c.execute(sa.insert(case).values(
                    id=i, public_id=f"p{i}", kind="hotline", type="complaint", category_id="case.food",
                    description="x", region_code="330203005001", channel="portal", anonymous=False, filed_by="t",
                    status="closed", department_id=None, assist_department_ids="[]", clock_started_on=at.date(),
                    due_date=at.date(), supervisions=0, rating=rating, rating_source=source,
                    closed_at=at.replace(tzinfo=None) if db.is_sqlite else at,
                    visited_at=(at + dt.timedelta(hours=1)).replace(tzinfo=None) if db.is_sqlite else at + dt.timedelta(hours=1),
                    version=1, created_at=at.replace(tzinfo=None) if db.is_sqlite else at,
                    updated_at=at.replace(tzinfo=None) if db.is_sqlite else at))
        migrate.upgrade(db)
        with db.engine.connect() as c:
            rows = c.execute(sa.text("SELECT subject_kind, subject_id, level, channel, item_id, excluded "
                                     "FROM rating ORDER BY subject_id")).all()
            rects = c.execute(sa.text("SELECT count(*) FROM rating_rectification")).scalar()
        assert [tuple(r) for r in rows] == [("case", 1, 4, "online", "case.food", False),
                                            ("case", 2, 1, "visit", "case.food", False)]
        assert rects == 0  # an old 差评 opens no rectification
    finally:
        db.dispose()
