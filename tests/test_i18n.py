"""Languages: the zh_CN catalog is complete and keeps placeholders; the page language follows
account preference > cookie > Accept-Language > zh_CN."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.pofile import read_po
from starlette.requests import Request

from tongban.core.access import Principal
from tongban.core.i18n import LOCALE_DIR, gettext, negotiate
from tongban.webkit.templating import normalise_locale, resolve_locale

PO = Path(LOCALE_DIR) / "zh_CN" / "LC_MESSAGES" / "messages.po"
PLACEHOLDER = re.compile(r"%\([a-z_]+\)[sd]")


def _catalog():  # type: ignore[no-untyped-def]
    with PO.open("rb") as f:
        return read_po(f)


def test_every_msgid_in_the_zh_catalog_has_a_translation() -> None:
    missing = [m.id for m in _catalog() if m.id and not (m.string if isinstance(m.string, str)
                                                          else all(m.string))]
    assert missing == []


def test_no_translation_is_fuzzy() -> None:
    assert [m.id for m in _catalog() if m.id and m.fuzzy] == []


def test_translations_keep_their_placeholders() -> None:
    for m in _catalog():
        if m.id and isinstance(m.id, str):
            assert sorted(PLACEHOLDER.findall(m.id)) == sorted(PLACEHOLDER.findall(str(m.string))), m.id


def test_the_compiled_catalog_is_used() -> None:
    assert gettext("Log in", "zh_CN") == "登录"
    assert gettext("Log in", "en") == "Log in"


def _request(headers: dict[str, str]) -> Request:
    raw = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    return Request({"type": "http", "method": "GET", "path": "/", "headers": raw, "query_string": b""})


def test_locale_precedence() -> None:
    en_account = Principal(kind="resident", account_id=1, locale="en")
    zh_account = Principal(kind="resident", account_id=1, locale="zh_CN")
    nobody = Principal(kind="anonymous")
    assert resolve_locale(_request({})) == "zh_CN"
    assert resolve_locale(_request({"Accept-Language": "en-US,en;q=0.8"})) == "en"
    assert resolve_locale(_request({"Accept-Language": "fr, en;q=0.5"})) == "en"
    assert resolve_locale(_request({"Accept-Language": "fr"})) == "zh_CN"
    assert resolve_locale(_request({"Accept-Language": "en", "Cookie": "tongban_locale=zh_CN"})) == "zh_CN"
    assert resolve_locale(_request({"Cookie": "tongban_locale=en"}), nobody) == "en"
    assert resolve_locale(_request({"Cookie": "tongban_locale=en"}), zh_account) == "zh_CN"
    assert resolve_locale(_request({"Accept-Language": "zh-CN", "Cookie": "tongban_locale=zh_CN"}),
                          en_account) == "en"
    # A cookie with a language we do not have is ignored.
    assert resolve_locale(_request({"Accept-Language": "en", "Cookie": "tongban_locale=fr"})) == "en"


def test_normalise_locale() -> None:
    assert normalise_locale("zh-CN") == normalise_locale("zh_cn") == normalise_locale("zh") == "zh_CN"
    assert normalise_locale("en-GB") == normalise_locale("en") == "en"
    assert normalise_locale("eng") is None and normalise_locale("fr") is None and normalise_locale(None) is None


def test_negotiate_prefers_higher_quality() -> None:
    assert negotiate("en;q=0.4, zh-CN;q=0.9") == "zh_CN"
    assert negotiate("zh;q=0.1, en") == "en"
