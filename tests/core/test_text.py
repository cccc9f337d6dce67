"""The character rules of data elements (tongban.core.text) on their own: names, free text, and
what no request may carry. The API tests (tests/services/test_request_hardening.py) show every
door uses them."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ValidationError

from tongban.core import text
from tongban.core.audit.log import canonical_json
from tongban.core.errors import Invalid


@pytest.mark.parametrize("name", ["张三", "欧阳娜娜", "阿卜杜拉·艾合买提", "𠮷", "𪚥", "〇", "Anna Müller", "O'Brien",
                                  "Jean-Luc", "李·Smith"])
def test_names_of_people_are_names(name: str) -> None:
    assert text.person_name(name, field="name") == name


@pytest.mark.parametrize(("typed", "stored"), [("阿卜杜拉•艾合买提", "阿卜杜拉·艾合买提"), ("阿卜杜拉・艾合买提", "阿卜杜拉·艾合买提"),
                                               ("O’Brien", "O'Brien"), ("Mu\u0308ller", "Müller"), (" 张三 ", "张三")])
def test_a_name_is_stored_in_one_form(typed: str, stored: str) -> None:
    assert text.person_name(typed, field="name") == stored


@pytest.mark.parametrize("name", ["", "张三😀", "<img src=x onerror=alert(1)>", "张\u202e三", "张\x00三", "张三1",
                                  "·张三", "张三-", "张··三", "Anna  Müller", "Анна", "ㄅㄆ", "x" * 65, "张\ud800"])
def test_anything_else_is_not_a_name(name: str) -> None:
    with pytest.raises(Invalid) as caught:
        text.person_name(name, field="data.child_name")
    assert caught.value.field == "data.child_name"


@pytest.mark.parametrize("value", ["解放南路128号\n5幢", "<b>not markup</b>", "🏠 home", "tab\there"])
def test_free_text_holds_printable_text(value: str) -> None:
    assert text.free_text(value, field="f") == value


@pytest.mark.parametrize("value", ["a\x00b", "a\x1bb", "a\x7fb", "a\u0085b", "a\u202ab", "a\u202eb", "a\u2066b",
                                   "a\u2069b", "a\ud800b", "a\udfffb", "a\uffffb", "a\ufdd0b", "x" * 2001])
def test_free_text_refuses_control_bidi_surrogates_and_overlong(value: str) -> None:
    with pytest.raises(Invalid):
        text.free_text(value, field="f")


def test_the_pydantic_types_raise_codes_the_problem_mapping_translates() -> None:
    class In(BaseModel):
        name: text.PersonName
        note: text.FreeText

    assert In(name="阿卜杜拉•艾合买提", note="ok").name == "阿卜杜拉·艾合买提"
    with pytest.raises(ValidationError) as caught:
        In(name="<b>", note="a\u202eb")
    assert {e["type"] for e in caught.value.errors()} == set(text.VALIDATION_MESSAGES) == {"person_name", "free_text"}


def test_unsafe_strings_names_the_paths_of_nul_and_lone_surrogates() -> None:
    data = {"a": "ok", "b": {"c": ["x", "y\x00"]}, "d": "\udc00", "e": "𠮷"}
    assert list(text.unsafe_strings(data)) == ["b.c.1", "d"]


def test_the_audit_serialiser_writes_integers_beyond_64_bits_as_text() -> None:
    assert canonical_json({"b": 2**64 + 1, "a": [1, -(2**70)]}) == \
        '{"a":[1,"-1180591620717411303424"],"b":"18446744073709551617"}'
    assert canonical_json({"n": 2**63 - 1}) == '{"n":9223372036854775807}'
