"""The indicator contract refuses a declaration the cockpit could not show."""

from datetime import date

import pytest

from tongban.core.indicators import Cell, Indicator


def _none(session, *, day_from, day_to):  # pragma: no cover - never called
    return []


def test_a_ratio_needs_two_measures_it_has():
    Indicator("x.rate", "r", "d", ("a", "b"), "ratio", ("a", "b"), _none, subjects="b")
    with pytest.raises(ValueError, match="reads 2 measures"):
        Indicator("x.rate", "r", "d", ("a", "b"), "ratio", ("a",), _none)
    with pytest.raises(ValueError, match="does not have"):
        Indicator("x.rate", "r", "d", ("a",), "ratio", ("a", "c"), _none)
    with pytest.raises(ValueError, match="subjects"):
        Indicator("x.n", "n", "d", ("a",), "count", ("a",), _none, subjects="z")


def test_a_cell_is_a_plain_tuple():
    c = Cell(date(2026, 1, 1), "330203", ("dept.x",), {"a": 1})
    assert c.region == "330203" and c.key == ("dept.x",) and c.values["a"] == 1
