"""Row scoping in one place (issue #15, failure 5): one scope function in `core.access`, one
fail-closed rule (no region → nothing), and no platform-admin test outside the access module."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.registry.factories import PACK, make_person
from tongban.core import access
from tongban.core.access import Denied, Principal
from tongban.core.packs.loader import load_pack
from tongban.registry.models import Person

SRC = Path(__file__).resolve().parents[2] / "src" / "tongban"


def _staff(region: str | None, department: str | None = "dept.haishu.mca", *perms: str) -> Principal:
    return Principal(kind="staff", account_id=1, department_id=department, region_code=region,
                     permissions=frozenset(perms or {"person.read"}))


def test_no_platform_admin_test_or_hand_written_region_like_outside_the_access_module() -> None:
    offenders = []
    for path in SRC.rglob("*.py"):
        if path == SRC / "core" / "access.py":
            continue
        text = path.read_text(encoding="utf-8")
        if "is_platform_admin" in text:
            offenders.append(f"{path.relative_to(SRC)}: is_platform_admin")
        if re.search(r"region_code\.like\(|region_prefix\([^)]*\) \+ \"%\"", text):
            offenders.append(f"{path.relative_to(SRC)}: a region LIKE of its own")
    assert offenders == []


def test_one_scope_rule_no_region_sees_nothing(db) -> None:  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        load_pack(s, PACK)
        here = make_person(s, "甲", region_code="330203001001").id
        make_person(s, "乙", region_code="330205001001")

        def seen(p: Principal) -> set[int]:
            return set(s.scalars(select(Person.id).where(access.scope(p, region=Person.region_code))))

        assert seen(_staff("330203")) == {here}
        assert seen(_staff(None)) == set()  # fail-closed
        assert seen(_staff("")) == set()
        assert seen(Principal(kind="resident", account_id=2, region_code="330203")) == set()
        assert len(seen(_staff(None, None, "platform.admin"))) == 2
        # department scope: no department → nothing
        dept = access.scope(_staff("330203", None), department=Person.hukou_region_code)
        assert set(s.scalars(select(Person.id).where(dept))) == set()


def test_catalog_search_checks_a_permission_not_the_kind_of_user(db) -> None:  # type: ignore[no-untyped-def]
    from tongban.datahub import catalog

    with db.unit_of_work() as s:
        load_pack(s, PACK)
        # A staff account holding only a resident's permissions is not a member of government's work.
        with pytest.raises(Denied):
            catalog.search(s, principal=_staff("330203", "dept.haishu.mca", "self.read", "open.apply"))
        assert catalog.search(s, principal=_staff("330203", "dept.haishu.mca", "exchange.read"))
