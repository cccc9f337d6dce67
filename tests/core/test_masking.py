"""The one masking module: display formats, and the same formats over whole columns."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tongban.core import masking


@pytest.mark.parametrize(("mask", "value", "shown"), [
    ("id_number", "330203199408210421", "330203********0421"),
    ("name", "李婷", "李*"),
    ("name", "欧阳娜娜", "欧***"),
    ("phone", "13800000102", "138****0102"),
    ("bank_card", "6222021234567890123", "**** 0123"),
    ("address", "解放南路", "解放南路 ***"),
])
def test_display_masks_and_their_column_form_agree(mask: str, value: str, shown: str) -> None:
    assert masking.MASKS[mask](value) == shown
    column = pl.DataFrame({"v": [value, None]}).select(masking.mask_expr(mask, "v"))["v"].to_list()
    assert column == [shown, None]


def test_pseudonyms_are_keyed_and_stable() -> None:
    a = masking.pseudonym("person:1", key=b"k1")
    assert a == masking.pseudonym("person:1", key=b"k1") != masking.pseudonym("person:1", key=b"k2")
    assert len(a) == 24


MASK_NAMES = [*masking.MASKS, None, "no-such-mask"]


@settings(max_examples=150, deadline=None)
@given(mask=st.sampled_from(MASK_NAMES),
       values=st.lists(st.one_of(st.none(), st.text(max_size=30), st.integers(-10**12, 10**12),
                                 st.dates().map(lambda d: d.isoformat())), max_size=12))
def test_the_python_and_polars_forms_agree_on_every_input(mask: str | None, values: list[object]) -> None:
    """One definition (`masking.SHAPES`) for both forms: any value, any mask, same display."""
    texts = [None if v is None else str(v) for v in values]
    column = pl.DataFrame({"v": texts}, schema={"v": pl.String}).select(masking.mask_expr(mask, "v"))["v"].to_list()
    assert column == [masking.apply(mask, v) for v in texts]
    for v, shown in zip(texts, column, strict=True):
        if v and set(v) != {"*"}:  # never the whole value (unless a bare road or a year)
            assert shown != v or mask in ("address", "year")
