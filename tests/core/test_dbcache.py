"""The one per-database cache (`core.invalidation.DatabaseCache`) the service catalogue and the
working-day calendar share: one read per unit of work, a small key query every few seconds, a
rebuild only when the key changed, and forgotten at once when this process changes a watched table."""

from __future__ import annotations

import itertools

from tongban.core.identity.models import Region
from tongban.core.invalidation import DatabaseCache
from tongban.core.workdays import schedule
from tongban.services import catalogue


def test_read_once_per_unit_of_work_rebuilt_on_a_changed_key_forgotten_on_a_change(db, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    keys, loads = itertools.count(), []
    key_now = {"value": 1}

    def key(session):  # type: ignore[no-untyped-def]
        next(keys)
        return key_now["value"]

    def load(session, k):  # type: ignore[no-untyped-def]
        loads.append(k)
        return {"built_for": k}

    cache = DatabaseCache("test_regions", (Region,), recheck_seconds=3600, key=key, load=load)
    with db.unit_of_work() as s:
        first = cache.get(s)
        assert cache.get(s) is first and loads == [1]
    with db.unit_of_work() as s:
        assert cache.get(s) is first  # within the recheck time: not even the key is read
    assert next(keys) == 1  # one key query so far (this call counts the second)

    cache.recheck_seconds = 0
    with db.unit_of_work() as s:
        assert cache.get(s) is first and loads == [1]  # key read again, unchanged: no rebuild
    key_now["value"] = 2
    with db.unit_of_work() as s:
        assert cache.get(s) == {"built_for": 2} and loads == [1, 2]

    cache.recheck_seconds = 3600
    with db.unit_of_work() as s:
        held = cache.get(s)
        s.add(Region(code="339999", prefix="339999", name_zh="测试", name_en="Test", level="county", parent_code=None))
        s.flush()  # a change to a watched table in this process: forgotten at once
        assert cache.get(s) is not held and loads == [1, 2, 2]
        s.rollback()


def test_the_catalogue_and_the_calendar_use_it() -> None:
    assert isinstance(catalogue._CACHE, DatabaseCache) and isinstance(schedule._CACHE, DatabaseCache)
    assert catalogue._CACHE.recheck_seconds == catalogue.RECHECK_SECONDS
    assert schedule._CACHE.recheck_seconds == schedule.RECHECK_SECONDS
