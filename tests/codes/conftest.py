"""Codes fixtures: the demo pack with its standing grants, a few generated subjects, the issuing
departments' officers and the code keyring."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.factories import make_staff
from tongban.codes import demo_data
from tongban.core.keys import Keyring, keyring_for
from tongban.core.packs.loader import load_pack

PACK = Path(__file__).resolve().parents[2] / "packs" / "demo"


@pytest.fixture()
def codes_city(db, clock):  # type: ignore[no-untyped-def]
    """Under the test clock: the demo pack (with grants.yaml: hrss reads the health certificates' validity) and 12
    generated subjects of each kind."""
    with db.unit_of_work() as s:
        load_pack(s, PACK, include_demo=True)
        demo_data.generate(s, {k: 12 for k in demo_data.KINDS})
        make_staff(s, "codes.hrss", department_id="dept.haishu.hrss", roles=["officer"])
        make_staff(s, "codes.agri", department_id="dept.haishu.agri", roles=["officer"])
    return db


@pytest.fixture()
def keyring(settings) -> Keyring:  # type: ignore[no-untyped-def]
    return keyring_for(settings)
