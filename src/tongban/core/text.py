"""Character rules of data elements (数据元): what a person's name and what free text may hold.

One rule per kind of text, used by every door a value comes in by — service forms (elements with
`format: person_name`, and every other string element as free text), the API's request models
(`PersonName`, `FreeText`), registry corrections and searches, and imports. The rules and the
reasons for them are in docs/packs.md ("Character rules").

- **Free text** (addresses, reasons, drafts, corrections): any printable character, line breaks
  and tabs; never a control character (NUL included: PostgreSQL cannot store it), a bidi
  embedding, override or isolate (U+202A–202E, U+2066–2069: they make text display in another
  order than it is stored), a lone UTF-16 surrogate (not a character, and no UTF-8 for it) or a
  noncharacter. Markup is text like any other: pages escape it and nothing interprets it.
- **A person's name**: Han characters (CJK unified ideographs with every extension GB 18030-2022
  covers, compatibility ideographs, 〇), Latin letters (with their accents) and, between the parts
  of a name, one space, hyphen, apostrophe or middle dot. Variants of the middle dot people type
  (•・‧･．∙⋅) are stored as U+00B7 ·, the one the 户籍 registers use for minority and foreign
  names; a typographic apostrophe (’) as '. Anything else — digits, emoji, markup, symbols — is
  refused: a name is printed on certificates and read aloud at a counter.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from typing import Annotated, Any

from pydantic import AfterValidator, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError

from tongban.core.errors import Invalid
from tongban.core.i18n import N_

FREE_TEXT_MAX = 2000  # a string element without its own max_length holds at most this much
NAME_MAX = 64

NAME_MESSAGE = N_("Enter a name in Chinese characters or Latin letters (a middle dot, space, hyphen or "
                  "apostrophe may separate its parts)")
TEXT_MESSAGE = N_("This text contains a character that is not allowed (a control or text-direction character)")

_BIDI = frozenset(range(0x202A, 0x202F)) | frozenset(range(0x2066, 0x206A))
_ALLOWED_CONTROLS = frozenset("\t\n\r")
_DOTS = {"\u00b7": "\u00b7", "\u2022": "\u00b7", "\u30fb": "\u00b7", "\u2027": "\u00b7", "\uff65": "\u00b7",
         "\uff0e": "\u00b7", "\u2219": "\u00b7", "\u22c5": "\u00b7", "\u0387": "\u00b7"}
_SEPARATORS = {" ": " ", "-": "-", "'": "'", "\u2019": "'", **_DOTS}
# Han ideographs: URO, extension A, B–F and I, G–H, compatibility ideographs (+ supplement), 〇.
_HAN = ((0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0x20000, 0x2EE5F), (0x30000, 0x323AF),
        (0xF900, 0xFAFF), (0x2F800, 0x2FA1F), (0x3007, 0x3007))


def _is_han(ch: str) -> bool:
    cp = ord(ch)
    return any(lo <= cp <= hi for lo, hi in _HAN)


def _is_latin_letter(ch: str) -> bool:
    return unicodedata.category(ch) in ("Lu", "Ll") and unicodedata.name(ch, "").startswith("LATIN ")


def bad_text_char(value: str) -> str | None:
    """The first character free text may not hold, or None."""
    for ch in value:
        cp = ord(ch)
        if cp < 0x20 or 0x7F <= cp <= 0x9F:
            if ch not in _ALLOWED_CONTROLS:
                return ch
        elif cp in _BIDI or 0xD800 <= cp <= 0xDFFF or (cp & 0xFFFE) == 0xFFFE or 0xFDD0 <= cp <= 0xFDEF:
            return ch
    return None


def free_text(value: str, *, field: str, max_length: int | None = None) -> str:
    """Free text, checked: refused (`Invalid` naming `field`) if it holds a character no text may."""
    if bad_text_char(value) is not None:
        raise Invalid(TEXT_MESSAGE, field=field)
    if len(value) > (max_length or FREE_TEXT_MAX):
        raise Invalid(N_("This value is too long"), field=field)
    return value


def normalise_name(value: str) -> str | None:
    """The name in its stored form (NFC, one kind of middle dot and apostrophe), or None if it is
    not a name by the rule above."""
    value = unicodedata.normalize("NFC", value.strip())
    if not value or len(value) > NAME_MAX:
        return None
    out: list[str] = []
    after_separator = True  # a name neither starts nor ends with a separator, nor doubles one
    for ch in value:
        if ch in _SEPARATORS:
            if after_separator:
                return None
            out.append(_SEPARATORS[ch])
            after_separator = True
        elif _is_han(ch) or _is_latin_letter(ch):
            out.append(ch)
            after_separator = False
        else:
            return None
    return None if after_separator else "".join(out)


def person_name(value: str, *, field: str, max_length: int | None = None) -> str:
    """A person's name, checked and normalised; `Invalid` naming `field` if it is not one."""
    name = normalise_name(value)
    if name is None:
        raise Invalid(NAME_MESSAGE, field=field)
    if max_length and len(name) > max_length:
        raise Invalid(N_("This value is too long"), field=field)
    return name


def unsafe_strings(data: Any, path: str = "") -> Iterator[str]:
    """The dotted paths of strings (keys included) in parsed JSON that no request may carry at all:
    a NUL or a lone surrogate. These fail in the database driver or the UTF-8 encoder, whatever
    the field, so the request boundary refuses them before any field's own rule runs."""
    if isinstance(data, str):
        if "\x00" in data or any(0xD800 <= ord(c) <= 0xDFFF for c in data):
            yield path
    elif isinstance(data, dict):
        for k, v in data.items():
            key = str(k)
            sub = f"{path}.{key}" if path else key
            if "\x00" in key or any(0xD800 <= ord(c) <= 0xDFFF for c in key):
                yield path or "body"
            yield from unsafe_strings(v, sub)
    elif isinstance(data, list):
        for i, v in enumerate(data):
            yield from unsafe_strings(v, f"{path}.{i}" if path else str(i))


# --- the same rules as Pydantic types, for request models ---------------------------------------


def _free_text(value: str) -> str:
    if bad_text_char(value) is not None:
        raise PydanticCustomError("free_text", TEXT_MESSAGE)
    return value


def _person_name(value: str) -> str:
    name = normalise_name(value)
    if name is None:
        raise PydanticCustomError("person_name", NAME_MESSAGE)
    return name


VALIDATION_MESSAGES = {"free_text": TEXT_MESSAGE, "person_name": NAME_MESSAGE}
"""Messages of the error codes the types below raise, for whoever maps validation errors."""

def _noncharacters() -> str:
    """U+FDD0–FDEF and the last two code points of every plane, as a regex class's contents (the
    astral ones as characters: ECMA-262 has no escape for them outside the `u` flag)."""
    planes = "".join(chr(p << 16 | 0xFFFE) + chr(p << 16 | 0xFFFF) for p in range(1, 17))
    return r"\ufdd0-\ufdef\ufffe\uffff" + planes


# Escapes, not characters, for the BMP (the document is served as UTF-8). Lone surrogates are left
# out: they are no character, no UTF-8 text can hold one, and regex engines that work on scalar
# values (Rust's, which schemathesis validates with) refuse a pattern naming them.
FREE_TEXT_PATTERN = (r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069"
                     + _noncharacters() + "]*$")
"""`bad_text_char` as a regular expression (ECMA-262, Python and Rust alike), for the API document:
the free-text rule is one a client can check before sending."""


class _DocumentedPattern:
    """Adds `pattern` to a type's JSON schema (the OpenAPI document); the validator stays the rule."""

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern

    def __get_pydantic_json_schema__(self, core_schema: Any, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        schema = handler(core_schema)
        schema["pattern"] = self.pattern
        return schema


FreeText = Annotated[str, AfterValidator(_free_text), _DocumentedPattern(FREE_TEXT_PATTERN)]
"""Free text in a request model (add `Field(max_length=…)` for its length)."""

PersonName = Annotated[str, AfterValidator(_person_name)]
"""A person's name in a request model, normalised."""
