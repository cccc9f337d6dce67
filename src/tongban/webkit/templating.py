"""Jinja2 templates for the server-rendered pages, translated into the caller's language.

The environment carries Jinja's gettext extension bound to the locale of the page being
rendered (`locale` in the template context), so a template never depends on which thread or
task rendered it. `resolve_locale` decides that locale: the account's preference, then the
`tongban_locale` cookie, then Accept-Language, then zh_CN. `render` builds the context every
page shares (who is calling, the CSRF token, the display preferences: 长辈版 and the help line,
`webkit.display`) and sets the cookies a page needs. `asset(path)` names a static file under its
fingerprinted, long-cached name (`webkit.assets`).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, pass_context, select_autoescape
from jinja2.runtime import Context

from tongban.core.access import ANONYMOUS, Principal
from tongban.core.i18n import DEFAULT, SUPPORTED, get_locale, negotiate, pick, translations
from tongban.core.timeutil import local
from tongban.webkit import display
from tongban.webkit.assets import asset

LOCALE_COOKIE = "tongban_locale"
PRODUCT_NAME = "通办"
# The `lang` attribute of <html> for each supported locale (BCP 47).
HTML_LANG = {"zh_CN": "zh-CN", "en": "en"}


def normalise_locale(value: str | None) -> str | None:
    """`zh-CN`, `zh_cn`, `zh` → `zh_CN`; `en`, `en-GB` → `en`; anything else → None."""
    if not value:
        return None
    tag = value.strip().replace("-", "_").lower()
    if tag.startswith("zh"):
        return "zh_CN"
    if tag == "en" or tag.startswith("en_"):
        return "en"
    return None


def resolve_locale(request: Request, principal: Principal | None = None) -> str:
    """The page language: account preference > `tongban_locale` cookie > Accept-Language > zh_CN."""
    preferred = normalise_locale(principal.locale if principal else None)
    if preferred is None:
        preferred = normalise_locale(request.cookies.get(LOCALE_COOKIE))
    locale = negotiate(request.headers.get("accept-language"), preferred)
    return locale if locale in SUPPORTED else DEFAULT


def page_locale(request: Request) -> str:
    """The locale a page dependency settled on for this request (or a fresh resolution)."""
    locale = getattr(request.state, "locale", None)
    if locale in SUPPORTED:
        return str(locale)
    return resolve_locale(request, getattr(request.state, "principal", None))


# --- the environment ----------------------------------------------------------------------------


def _context_locale(ctx: Context) -> str:
    locale = ctx.get("locale")
    return locale if isinstance(locale, str) and locale in SUPPORTED else get_locale()


@pass_context
def _gettext(ctx: Context, message: str) -> str:
    return translations(_context_locale(ctx)).gettext(message)


@pass_context
def _ngettext(ctx: Context, singular: str, plural: str, n: int) -> str:
    return translations(_context_locale(ctx)).ngettext(singular, plural, n)


@pass_context
def _pick(ctx: Context, text: dict[str, str] | None) -> str:
    """`{{ title | pick }}`: the caller's language from a bilingual `{"zh": …, "en": …}` field."""
    return pick(text, _context_locale(ctx))


def _localtime(value: dt.datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """`{{ ts | localtime }}`: a stored UTC timestamp shown in Asia/Shanghai."""
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return local(value).strftime(fmt)


def _make_environment() -> Environment:
    env = Environment(
        # Empty until the app adds its template folders (`add_template_dir`): the kit knows no
        # app and no slice, so it cannot know where their templates live.
        loader=FileSystemLoader([]),
        autoescape=select_autoescape(["html", "xml"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_callables(_gettext, _ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.filters["pick"] = _pick
    env.filters["localtime"] = _localtime
    env.globals["product_name"] = PRODUCT_NAME
    env.globals["asset"] = asset
    return env


env = _make_environment()


def add_template_dir(directory: Path) -> None:
    """Let pages render templates from `directory` (searched after the folders added before it)."""
    loader = env.loader
    assert isinstance(loader, FileSystemLoader)
    path = str(directory)
    if path not in loader.searchpath:
        loader.searchpath.append(path)


# --- rendering ----------------------------------------------------------------------------------


def base_context(request: Request, principal: Principal | None = None) -> dict[str, Any]:
    """What every page template may use: `locale`, `html_lang`, `principal`, `csrf_token`, …"""
    from tongban.webkit import csrf

    principal = principal or getattr(request.state, "principal", None) or ANONYMOUS
    locale = page_locale(request)
    return {
        "request": request,
        "locale": locale,
        "html_lang": HTML_LANG.get(locale, "zh-CN"),
        "principal": principal,
        "signed_in": principal.kind != "anonymous",
        "csrf_token": csrf.token_for_page(request),
        "elder": display.elder_mode(request, principal),
        "help_line": display.help_line(request, principal),
        "echarts_src": asset("vendor/echarts.min.js" if _full_echarts(request) else "vendor/echarts.js"),
        "echarts_in_head": request.query_params.get("echarts") == "before",
        "echarts_map_src": asset("vendor/echarts.min.js" if _full_echarts(request) else "vendor/echarts-map.js"),
        "current_path": _current_path(request),
    }


def _full_echarts(request: Request) -> bool:
    """`?echarts=full`: the full build, loaded as usual; `?echarts=before`: the full build in the
    head, as pages had it before issue #23 (the baselines of `tongban bench pages`)."""
    return request.query_params.get("echarts") in ("full", "before")


def _current_path(request: Request) -> str:
    path = request.url.path
    return f"{path}?{request.url.query}" if request.url.query else path


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    principal: Principal | None = None,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """Render `template` with the shared page context plus `context`."""
    from tongban.webkit import csrf

    values = base_context(request, principal)
    if context:
        values.update(context)
    html = env.get_template(template).render(values)
    response = HTMLResponse(html, status_code=status_code, headers=headers)
    csrf.set_form_cookie(request, response)
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def wants_html(request: Request) -> bool:
    """Is this a browser asking for a page (not an API or htmx call)?"""
    if request.url.path.startswith("/api/") or request.headers.get("hx-request"):
        return False
    return "text/html" in request.headers.get("accept", "")


def render_error(
    request: Request, status_code: int, title: str, detail: str | None = None,
    *, principal: Principal | None = None,
) -> HTMLResponse:
    """An error page (403, 404, 500, …) in the caller's language; `title`/`detail` already translated."""
    return render(request, "error.html", {"status": status_code, "title": title, "detail": detail},
                  status_code=status_code, principal=principal)
