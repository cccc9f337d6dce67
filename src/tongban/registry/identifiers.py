"""National identifiers: the resident ID number (GB 11643) and the 统一社会信用代码 (GB 32100).

Validators return the parsed parts or raise `Invalid(field=…)` with a reason that never
repeats the number. The area-code rule is deliberate: a code is accepted if it exists or
ever existed in GB/T 2260 (`registry.divisions`), whatever the birth year — a person keeps
the number they were given after their county is merged away. (python-stdnum's `ric`
also demands that the county existed in the birth year, and raised KeyError for some
prefixes; we do not depend on it at run time.)

The vectorised check-character functions at the end are what the synthetic city uses.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from tongban.core.errors import Invalid
from tongban.core.i18n import N_
from tongban.registry import divisions

# --- resident ID number (GB 11643, ISO 7064 MOD 11-2) ---------------------------------

RIC_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)  # 2^(17-i) mod 11
RIC_CHECK = "10X98765432"  # check character for (sum of weighted digits) mod 11
EARLIEST_BIRTH = dt.date(1900, 1, 1)  # older "birth dates" are treated as impossible


@dataclass(frozen=True)
class ResidentId:
    number: str
    area_code: str
    birth_date: dt.date
    sequence: str
    sex: Literal["M", "F"]


def ric_check_char(first17: str) -> str:
    """The 18th character for 17 digits."""
    return RIC_CHECK[sum(int(c) * w for c, w in zip(first17, RIC_WEIGHTS, strict=True)) % 11]


def _sex(sequence: str) -> Literal["M", "F"]:
    return "M" if int(sequence[-1]) % 2 else "F"


def validate_resident_id(
    value: str,
    *,
    field: str = "id_number",
    today: dt.date | None = None,
    birth_date: dt.date | None = None,
    sex: str | None = None,
) -> ResidentId:
    """Parse and check an 18-character resident ID number.

    Checks, in order: length, characters (17 digits then a digit or X; a lower-case x is
    accepted), the check character, the birth date (real, not before 1900, not in the
    future), the area code (exists or existed in GB/T 2260). If `birth_date` or `sex`
    ("M"/"F") are given, they must agree with the number.
    """
    number = value.strip().upper() if isinstance(value, str) else ""
    if len(number) != 18:
        raise Invalid(N_("An ID number has 18 characters"), field=field)
    if not (number[:17].isascii() and number[:17].isdigit()) or number[17] not in "0123456789X":
        raise Invalid(N_("An ID number has 17 digits followed by a digit or X"), field=field)
    if number[17] != ric_check_char(number[:17]):
        raise Invalid(N_("The ID number's check character is wrong"), field=field)
    try:
        born = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise Invalid(N_("The birth date in the ID number is not a real date"), field=field) from None
    if born < EARLIEST_BIRTH:
        raise Invalid(N_("The birth date in the ID number is impossibly early"), field=field)
    if born > (today or _today()):
        raise Invalid(N_("The birth date in the ID number is in the future"), field=field)
    area = number[:6]
    if not divisions.is_known(area):
        raise Invalid(N_("The ID number's area code is not in the national division list"), field=field)
    parsed = ResidentId(number=number, area_code=area, birth_date=born, sequence=number[14:17],
                        sex=_sex(number[14:17]))
    if birth_date is not None and birth_date != born:
        raise Invalid(N_("The birth date does not agree with the ID number"), field=field)
    if sex is not None and sex != parsed.sex:
        raise Invalid(N_("The sex does not agree with the ID number"), field=field)
    return parsed


def is_valid_resident_id(value: str, *, today: dt.date | None = None) -> bool:
    try:
        validate_resident_id(value, today=today)
    except Invalid:
        return False
    return True


def _today() -> dt.date:
    from tongban.core.timeutil import today_local

    return today_local()


# --- 统一社会信用代码 (GB 32100) ----------------------------------------------------------

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # 31 characters: no I O Z S V
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)  # 3^i mod 31
# Registering authority (position 1) → its organisation categories (position 2), GB 32100 table 1.
USCC_CATEGORIES: dict[str, str] = {
    "1": "1239",  # 机构编制: 机关, 事业单位, 中央编办管理的群众团体, 其他
    "2": "19",  # 外交
    "3": "12345679",  # 司法行政 (律师事务所, 公证处, 基层法律服务所, 司法鉴定所, 仲裁委员会, …)
    "4": "19",  # 文化 (外国在华文化中心)
    "5": "1239",  # 民政: 社会团体, 民办非企业单位, 基金会, 其他
    "6": "129",  # 旅游
    "7": "129",  # 宗教
    "8": "19",  # 工会
    "9": "123",  # 工商: 企业, 个体工商户, 农民专业合作社
    "A": "19",  # 中央军委改革和编制办公室
    "N": "123459",  # 农业
    "Y": "1",  # 其他
}
_USCC_INDEX = {c: i for i, c in enumerate(USCC_ALPHABET)}
# GB 11714 organisation code (positions 9-17): 8 body characters and a MOD 11 check.
ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
ORG_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


@dataclass(frozen=True)
class Uscc:
    number: str
    authority: str
    category: str
    area_code: str
    org_code: str


def uscc_check_char(first17: str) -> str:
    total = sum(_USCC_INDEX[c] * w for c, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[-total % 31]


def org_code_check_char(body8: str) -> str:
    """GB 11714 check character of an 8-character organisation code body."""
    c = 11 - sum(ORG_ALPHABET.index(ch) * w for ch, w in zip(body8, ORG_WEIGHTS, strict=True)) % 11
    return "X" if c == 10 else "0" if c == 11 else str(c)


def validate_uscc(value: str, *, field: str = "uscc") -> Uscc:
    """Parse and check a 统一社会信用代码: 18 characters without I O Z S V, a known
    registering authority and category, a GB/T 2260 area code, and the MOD 31 check.

    The organisation code's own GB 11714 check (position 17) is not enforced: codes
    issued to 个体工商户 and some older bodies do not always carry one.
    """
    number = value.strip().upper() if isinstance(value, str) else ""
    if len(number) != 18:
        raise Invalid(N_("A unified social credit code has 18 characters"), field=field)
    if any(c not in _USCC_INDEX for c in number):
        raise Invalid(N_("A unified social credit code uses 0-9 and A-Z without I, O, Z, S, V"), field=field)
    if number[17] != uscc_check_char(number[:17]):
        raise Invalid(N_("The unified social credit code's check character is wrong"), field=field)
    authority, category = number[0], number[1]
    if category not in USCC_CATEGORIES.get(authority, ""):
        raise Invalid(N_("The registering authority or organisation category is not a known one"),
                      field=field)
    area = number[2:8]
    if not (area.isdigit() and divisions.is_known(area)):
        raise Invalid(N_("The code's area code is not in the national division list"), field=field)
    return Uscc(number=number, authority=authority, category=category, area_code=area, org_code=number[8:])


def is_valid_uscc(value: str) -> bool:
    try:
        validate_uscc(value)
    except Invalid:
        return False
    return True


# --- vectorised check characters for the generator --------------------------------------


def ric_check_chars(digits: npt.NDArray[np.integer]) -> npt.NDArray[np.uint8]:
    """ASCII check characters for an (n, 17) array of digits."""
    total = digits.astype(np.int64) @ np.asarray(RIC_WEIGHTS, dtype=np.int64)
    return np.frombuffer(RIC_CHECK.encode(), dtype=np.uint8)[total % 11]


def uscc_check_chars(indices: npt.NDArray[np.integer]) -> npt.NDArray[np.uint8]:
    """ASCII check characters for an (n, 17) array of USCC alphabet indices."""
    total = indices.astype(np.int64) @ np.asarray(USCC_WEIGHTS, dtype=np.int64)
    return np.frombuffer(USCC_ALPHABET.encode(), dtype=np.uint8)[(-total) % 31]


def org_code_check_chars(digits: npt.NDArray[np.integer]) -> npt.NDArray[np.uint8]:
    """ASCII GB 11714 check characters for an (n, 8) array of digit bodies."""
    c = 11 - (digits.astype(np.int64) @ np.asarray(ORG_WEIGHTS, dtype=np.int64)) % 11
    table = np.frombuffer(b"0123456789X0", dtype=np.uint8)  # 10 → X, 11 → 0
    return table[c]
