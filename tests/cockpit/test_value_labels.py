"""Every indicator names the values of its dimensions (an item's title, a case type, 男/女 …):
the cockpit's tables never show a bare code. A `department` dimension is named by the cockpit."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import pytest
from sqlalchemy import select

from tests.cockpit import figures_city as fc
from tongban.cockpit import store
from tongban.cockpit.models import CockpitCell
from tongban.core.indicators import Indicator
from tongban.screening.engine import PolicyEngine, set_engine


@pytest.fixture()
def policies(settings):  # type: ignore[no-untyped-def]
    """The policy engine over the test's pack (the app's is the configured pack's)."""
    set_engine(PolicyEngine(settings.pack_dir))
    yield
    set_engine(None)


def coded() -> dict[str, Indicator]:
    """The indicators with a dimension other than `department`."""
    return {k: ind for k, ind in store.indicators().items() if set(ind.dimensions) - {"department"}}


def unlabelled(s: Any, present: dict[str, set[tuple[str, ...]]]) -> tuple[list[tuple[str, str, str]], int]:
    """The (indicator, dimension, value) present in cells without a label of their own, and how
    many values were looked at."""
    out: list[tuple[str, str, str]] = []
    checked = 0
    for key, ind in coded().items():
        assert ind.value_labels is not None, key
        for i, dim in enumerate(ind.dimensions):
            if dim == "department":
                continue
            labels = ind.value_labels(s, dim)
            for value in sorted({k[i] for k in present.get(key, set())}):
                checked += 1
                label = labels.get(value)
                if not label or label == value:
                    out.append((key, dim, value))
    return out, checked


def test_every_indicator_with_a_coded_dimension_declares_value_labels() -> None:
    assert coded(), "no indicator has a dimension other than department"
    assert sorted(k for k, ind in coded().items() if ind.value_labels is None) == []


def test_the_demo_cockpit_cells_have_a_label_for_every_value(demo, policies) -> None:  # type: ignore[no-untyped-def]
    with demo.unit_of_work() as s:
        store.refresh(s)
    with demo.unit_of_work() as s:
        present: dict[str, set[tuple[str, ...]]] = defaultdict(set)
        for indicator, key in s.execute(select(CockpitCell.indicator, CockpitCell.key).distinct()):
            present[indicator].add(store.decode_key(key))
        missing, checked = unlabelled(s, present)
        assert missing == []
        assert checked >= 10  # the demo holds cells of several of them: the check is not vacuous
        assert len([k for k in coded() if present.get(k)]) >= 4


def test_a_generated_history_has_a_label_for_every_value_of_every_indicator(db, tmp_path) -> None:  # type: ignore[no-untyped-def]
    fc.load_city(db, persons=600)
    fc.run_history(db, tmp_path / "keys", persons=600)
    fc.other_rows(db)
    set_engine(PolicyEngine(fc.PACK))
    try:
        with db.unit_of_work() as s:
            present = {key: {c.key for c in ind.compute(s, day_from=fc.START, day_to=fc.END)}
                       for key, ind in coded().items()}
            assert sorted(k for k, keys in present.items() if not keys) == []  # every one has cells
            missing, _ = unlabelled(s, present)
            assert missing == []
    finally:
        set_engine(None)
