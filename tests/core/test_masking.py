"""The one masking module: display formats, and the same formats over whole columns."""

from __future__ import annotations

import polars as pl
import pytest

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
