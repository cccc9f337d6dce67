"""Resident ID and USCC validators, with python-stdnum as an independent oracle."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stdnum.cn import ric, uscc

from tongban.core.errors import Invalid
from tongban.registry.generator import CityConfig, generate_chunk
from tongban.registry.identifiers import (
    USCC_ALPHABET,
    is_valid_resident_id,
    is_valid_uscc,
    org_code_check_char,
    ric_check_char,
    uscc_check_char,
    validate_resident_id,
    validate_uscc,
)

TODAY = dt.date(2025, 6, 30)
RIC_CHARS = "0123456789X"
USCC_CHARS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


@lru_cache(maxsize=1)
def _city() -> tuple[list[str], list[str]]:
    cfg = CityConfig(persons=20_000, seed=11, communities=("330203001001", "330205001001"), as_of=TODAY,
                     chunk_size=10_000)
    ids: list[str] = []
    codes: list[str] = []
    for c in range(cfg.chunks):
        frames = generate_chunk(cfg, c)
        ids += frames["person"]["id_number"].to_list()
        codes += frames["legal_entity"]["uscc"].to_list()
    return ids, codes


def _ric_ok(n: str) -> bool:
    try:
        return bool(ric.is_valid(n))
    except KeyError:  # python-stdnum raises KeyError for some prefixes (see DOMAIN.md)
        return False


def with_check(first17: str) -> str:
    return first17 + ric_check_char(first17)


# --- resident ID -----------------------------------------------------------------------


def test_a_valid_number_parses_into_area_birth_date_and_sex() -> None:
    parsed = validate_resident_id(with_check("33020319850312002"), today=TODAY)
    assert parsed.area_code == "330203"
    assert parsed.birth_date == dt.date(1985, 3, 12)
    assert parsed.sex == "F" and parsed.sequence == "002"
    assert validate_resident_id(with_check("33020319850312001"), today=TODAY).sex == "M"


def test_check_characters_agree_with_stdnum() -> None:
    assert ric_check_char("11010519491231002") == "X"
    for body in ("36042619910101007", "33020319850312002", "11010519491231002"):
        assert ric_check_char(body) == ric.calc_check_digit(body + "0")


def test_lower_case_x_and_spaces_are_accepted() -> None:
    number = with_check("11010519491231002")
    assert validate_resident_id(f" {number.lower()} ", today=TODAY).number == number


@pytest.mark.parametrize(("value", "reason"), [
    ("3302031985031200", "18 characters"),
    ("33020319850312002A", "17 digits"),
    ("３３０２０３１９８５０３１２００２Ｘ", "17 digits"),
    ("330203198503120021", "check character"),
    (with_check("33020319850230002"), "not a real date"),
    (with_check("33020318990101002"), "impossibly early"),
    (with_check("33020320300101002"), "in the future"),
    (with_check("62020119900101002"), "area code"),
    (with_check("99999919900101002"), "area code"),
])
def test_bad_numbers_are_rejected_with_a_reason_that_does_not_repeat_the_number(value: str, reason: str) -> None:
    with pytest.raises(Invalid) as err:
        validate_resident_id(value, today=TODAY)
    assert err.value.field == "id_number"
    assert reason in err.value.message
    assert value.strip()[:14] not in err.value.message


def test_a_code_that_existed_only_before_the_birth_year_is_accepted_on_purpose() -> None:
    # 330204 江东区 existed 1983-2016; stdnum demands it existed in the birth year, we do not.
    number = with_check("33020420200101002")
    assert validate_resident_id(number, today=TODAY).area_code == "330204"
    assert not _ric_ok(number)


def test_stated_birth_date_and_sex_must_agree() -> None:
    number = with_check("33020319850312002")
    validate_resident_id(number, today=TODAY, birth_date=dt.date(1985, 3, 12), sex="F")
    with pytest.raises(Invalid, match="sex"):
        validate_resident_id(number, today=TODAY, sex="M")
    with pytest.raises(Invalid, match="birth date"):
        validate_resident_id(number, today=TODAY, birth_date=dt.date(1985, 3, 13))


def test_every_generated_number_is_valid_by_ours_and_by_stdnum_with_matching_parts() -> None:
    ids, _ = _city()
    assert len(set(ids)) == len(ids)
    for number in ids:
        assert _ric_ok(number), "stdnum rejects a generated number"
        parsed = validate_resident_id(number, today=TODAY)
        assert ric.get_birth_date(number) == parsed.birth_date


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_every_single_substitution_of_a_generated_number_is_rejected(data: st.DataObject) -> None:
    number = data.draw(st.sampled_from(_city()[0]))
    pos = data.draw(st.integers(0, 17))
    char = data.draw(st.sampled_from(RIC_CHARS).filter(lambda c: c != number[pos]))
    mutated = number[:pos] + char + number[pos + 1:]
    assert not is_valid_resident_id(mutated, today=TODAY)
    assert not _ric_ok(mutated)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_every_swap_of_adjacent_different_characters_is_rejected(data: st.DataObject) -> None:
    number = data.draw(st.sampled_from(_city()[0]))
    pos = data.draw(st.integers(0, 16).filter(lambda i: number[i] != number[i + 1]))
    mutated = number[:pos] + number[pos + 1] + number[pos] + number[pos + 2:]
    assert not is_valid_resident_id(mutated, today=TODAY)
    assert not _ric_ok(mutated)


def test_exhaustively_all_substitutions_and_swaps_of_some_numbers_are_rejected() -> None:
    for number in _city()[0][:200]:
        for pos in range(18):
            for char in RIC_CHARS:
                if char != number[pos]:
                    assert not is_valid_resident_id(number[:pos] + char + number[pos + 1:], today=TODAY)
        for pos in range(17):
            if number[pos] != number[pos + 1]:
                assert not is_valid_resident_id(number[:pos] + number[pos + 1] + number[pos] + number[pos + 2:],
                                                today=TODAY)


# --- 统一社会信用代码 -------------------------------------------------------------------------


def test_a_valid_uscc_parses() -> None:
    body = "91330203" + "12345678" + org_code_check_char("12345678")
    code = body + uscc_check_char(body)
    parsed = validate_uscc(code)
    assert (parsed.authority, parsed.category, parsed.area_code) == ("9", "1", "330203")
    assert uscc.is_valid(code)


@pytest.mark.parametrize(("value", "reason"), [
    ("9133020312345678", "18 characters"),
    ("91330203MA2AXXXXI0", "without I, O, Z, S, V"),
    ("913302031234567890", "check character"),
])
def test_bad_usccs_are_rejected(value: str, reason: str) -> None:
    with pytest.raises(Invalid) as err:
        validate_uscc(value)
    assert err.value.field == "uscc" and reason in err.value.message


def test_unknown_authority_category_and_area_are_rejected() -> None:
    for head, reason in (("9833020312345678X", "registering authority"),
                         ("9199999912345678X", "area code")):
        with pytest.raises(Invalid, match=reason):
            validate_uscc(head + uscc_check_char(head))


def test_check_characters_agree_with_stdnum_uscc() -> None:
    for _, code in zip(range(500), _city()[1], strict=False):
        assert uscc.calc_check_digit(code[:17]) == uscc_check_char(code[:17])


def test_every_generated_uscc_is_valid_by_ours_and_by_stdnum() -> None:
    codes = _city()[1]
    assert len(set(codes)) == len(codes) > 1000
    for code in codes:
        assert uscc.is_valid(code) and is_valid_uscc(code)
        assert org_code_check_char(code[8:16]) == code[16]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_every_single_substitution_of_a_generated_uscc_is_rejected(data: st.DataObject) -> None:
    code = data.draw(st.sampled_from(_city()[1]))
    pos = data.draw(st.integers(0, 17))
    char = data.draw(st.sampled_from(USCC_CHARS).filter(lambda c: c != code[pos]))
    mutated = code[:pos] + char + code[pos + 1:]
    assert not is_valid_uscc(mutated)
    assert not uscc.is_valid(mutated)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_every_swap_of_adjacent_different_uscc_characters_is_rejected(data: st.DataObject) -> None:
    code = data.draw(st.sampled_from(_city()[1]))
    pos = data.draw(st.integers(0, 16).filter(lambda i: code[i] != code[i + 1]))
    mutated = code[:pos] + code[pos + 1] + code[pos] + code[pos + 2:]
    assert not is_valid_uscc(mutated)
    assert not uscc.is_valid(mutated)


def test_exhaustively_all_uscc_substitutions_and_swaps_of_some_codes_are_rejected() -> None:
    for code in _city()[1][:100]:
        for pos in range(18):
            for char in USCC_ALPHABET:
                if char != code[pos]:
                    assert not is_valid_uscc(code[:pos] + char + code[pos + 1:])
        for pos in range(17):
            if code[pos] != code[pos + 1]:
                assert not is_valid_uscc(code[:pos] + code[pos + 1] + code[pos] + code[pos + 2:])
