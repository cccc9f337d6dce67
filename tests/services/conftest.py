"""Fixtures of the services tests: the demo pack and cast loaded, logins by username."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from tongban.core import clock, masking
from tongban.core.timeutil import today_local
from tongban.demo import load_demo

DEMO_PASSWORD = "tongban-demo"


@pytest.fixture()
def demo(db, settings):  # type: ignore[no-untyped-def]
    masking.configure(settings.secret_key)  # the app does this; service-level tests need it too
    with db.unit_of_work() as s:
        load_demo(s, settings)
    return db


@pytest.fixture()
def login(client, demo) -> Callable[[str], dict[str, str]]:  # type: ignore[no-untyped-def]
    cache: dict[tuple[str, int], dict[str, str]] = {}

    def _login(username: str) -> dict[str, str]:
        # A token lives an hour of the clock's time; a test may move the clock on by days, so a
        # token is reused within half an hour of the clock only.
        key = (username, int(clock.now().timestamp()) // 1800)
        if key not in cache:
            resp = client.post("/api/v1/auth/token", data={"username": username, "password": DEMO_PASSWORD})
            assert resp.status_code == 200, resp.text
            cache[key] = {"Authorization": f"Bearer {resp.json()['access_token']}"}
        return cache[key]

    return _login


def birth_data(**overrides: Any) -> dict[str, Any]:
    """A complete birth one-thing form of 张明 (resident.zhang) and 李婷 for a son born this week."""
    data = {
        "child_name": "张小明", "child_sex": "M",
        "child_birth_date": (today_local() - dt.timedelta(days=3)).isoformat(),
        "child_birth_place": "宁波市妇女儿童医院", "mother_name": "李婷", "mother_id_number": "330203199408210421",
        "father_name": "张明", "father_id_number": "330203199203150314", "household_number": "H330203000101",
        "applicant_phone": "13800000101", "mailing_address": "解放南路128号5幢1单元302室",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def person_id(db, id_number: str) -> int:  # type: ignore[no-untyped-def]
    """The registry id of the person with this resident ID number."""
    from sqlalchemy import select

    from tongban.registry.models import Person

    with db.unit_of_work() as s:
        return int(s.scalar(select(Person.id).where(Person.id_number == id_number)) or 0)


ZHANG_ID = "330203199203150314"
LI_ID = "330203199408210421"
CHEN_ID = "330203198511020285"
CHEN_CHILD_ID = "33020320150612042X"
