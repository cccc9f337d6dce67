"""The unit of work on the embedded database: concurrent read-then-write transactions queue
instead of failing (SQLite WAL's 'database is locked' on a stale snapshot)."""

from __future__ import annotations

import threading
import time

from sqlalchemy import select

from tests.factories import seed_base
from tongban.core.identity.models import Department


def test_concurrent_read_then_write_units_of_work_both_commit(db):  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        seed_base(s)
    errors: list[BaseException] = []
    started = threading.Event()

    def slow_reader_then_writer() -> None:
        try:
            with db.unit_of_work() as s:
                s.scalars(select(Department)).all()
                started.set()
                time.sleep(0.3)
                s.get_one(Department, "dept.haishu.mca").name_en = "A"
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    def quick_writer() -> None:
        started.wait(5)
        try:
            with db.unit_of_work() as s:
                s.get_one(Department, "dept.haishu.health").name_en = "B"
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=slow_reader_then_writer), threading.Thread(target=quick_writer)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with db.unit_of_work() as s:
        assert s.get_one(Department, "dept.haishu.mca").name_en == "A"
        assert s.get_one(Department, "dept.haishu.health").name_en == "B"
