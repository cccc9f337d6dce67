"""Places fixtures: the demo pack (regions, shapes, categories, places) and a small generated city
whose households stand inside their communities' cells."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from tongban.core.packs.loader import load_pack

PACK = Path(__file__).resolve().parents[2] / "packs" / "demo"


@pytest.fixture()
def pack(db):  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        load_pack(s, PACK)
    return db


@pytest.fixture()
def city(pack):  # type: ignore[no-untyped-def]
    """3 000 persons in the demo's communities, their addresses at generated points."""
    from tongban.registry import generator, loader

    shapes = loader.community_shapes(pack)
    assert shapes is not None
    cfg = generator.CityConfig(persons=3000, seed=27, communities=tuple(loader.community_codes(pack)),
                               as_of=dt.date(2026, 6, 30), shapes=shapes)
    loader.load(pack, generator.generate(cfg))
    return pack
