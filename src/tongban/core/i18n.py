"""Languages: zh-CN first, English complete. Every user-visible string goes through gettext.

Source strings are English message ids; catalogs live in `tongban/locale/<lang>/LC_MESSAGES`
(compiled with Babel: `make i18n`). The active locale is a context variable set per request
from the user's preference or Accept-Language, so services can translate without plumbing.
"""

from __future__ import annotations

import contextvars
import gettext as _gettext
from functools import cache
from pathlib import Path

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
SUPPORTED = ("zh_CN", "en")
DEFAULT = "zh_CN"

_current: contextvars.ContextVar[str] = contextvars.ContextVar("locale", default=DEFAULT)


def N_(message: str) -> str:
    """Mark a string for extraction without translating it now."""
    return message


@cache
def translations(locale: str) -> _gettext.NullTranslations:
    if locale == "en":
        return _gettext.NullTranslations()
    return _gettext.translation("messages", localedir=LOCALE_DIR, languages=[locale], fallback=True)


def set_locale(locale: str) -> contextvars.Token[str]:
    return _current.set(locale if locale in SUPPORTED else DEFAULT)


def get_locale() -> str:
    return _current.get()


def gettext(message: str, locale: str | None = None) -> str:
    return translations(locale or get_locale()).gettext(message)


_ = gettext


def ngettext(singular: str, plural: str, n: int, locale: str | None = None) -> str:
    return translations(locale or get_locale()).ngettext(singular, plural, n)


def negotiate(accept_language: str | None, preferred: str | None = None) -> str:
    """Pick zh_CN or en: the user's own preference first, then Accept-Language, then zh_CN."""
    if preferred in SUPPORTED:
        return preferred  # type: ignore[return-value]
    if not accept_language:
        return DEFAULT
    ranked: list[tuple[float, int, str]] = []
    for i, part in enumerate(accept_language.split(",")):
        tag, _sep, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        ranked.append((-q, i, tag.strip().lower()))
    for _q, _i, tag in sorted(ranked):
        if tag.startswith("zh"):
            return "zh_CN"
        if tag.startswith("en"):
            return "en"
    return DEFAULT


def pick(text: dict[str, str] | None, locale: str | None = None) -> str:
    """Choose from a bilingual field such as `{"zh": "出生医学证明", "en": "Birth medical certificate"}`."""
    if not text:
        return ""
    loc = locale or get_locale()
    key = "en" if loc == "en" else "zh"
    return text.get(key) or text.get("zh") or text.get("en") or ""
