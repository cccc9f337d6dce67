"""Message templates (消息模板): the pack's `messages.yaml` declares each kind with a bilingual
title and body, its audience, whether it ignores quiet hours, and the SMS provider's approved
template code with the parameters it takes. Placeholders are `{name}`, filled from the
message's params; a param may itself be bilingual (`{zh: …, en: …}`)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Annotated, Any, Literal

from pydantic import Field
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from tongban.core.i18n import pick
from tongban.core.packs.loader import Changes, Pack, PackFile, Problem, register_section
from tongban.core.packs.models import Defines, PackModel, SectionFile, Text
from tongban.messages.models import MessageTemplate

PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)\}")
KIND = r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$"
SENT = "messages.kinds"  # extension point: each slice contributes the tuple of message kinds it sends


class SmsDecl(PackModel):
    """The provider's approved template (e.g. Alibaba Cloud `SMS_123456789`) and the params it takes."""

    template: Annotated[str, Field(min_length=1, max_length=64)]
    params: list[str] = []


class TemplateDecl(PackModel):
    kind: Annotated[str, Field(pattern=KIND, max_length=48), Defines("message_kind")]
    audience: Literal["resident", "staff"]
    urgent: bool = False
    title: Text
    body: Text
    sms: SmsDecl | None = None


class MessagesFile(SectionFile):
    templates: list[TemplateDecl]


def placeholders(definition: dict[str, Any]) -> set[str]:
    """Every `{name}` the title and body use, in either language."""
    names: set[str] = set()
    for part in ("title", "body"):
        for text in definition[part].values():
            names |= set(PLACEHOLDER.findall(text))
    return names


def sent_kinds() -> dict[str, str]:
    """Every message kind an installed slice sends (contributed to `messages.kinds` as a
    `"module:KINDS"` tuple), with where it is declared."""
    from tongban.core import slices

    found: dict[str, str] = {}
    for c in slices.contributions(SENT):
        found.update(dict.fromkeys(slices.load(str(c.target)), str(c.target)))
    return found


def check_templates(pf: PackFile, pack: Pack) -> Iterator[Problem]:
    model: MessagesFile = pf.model
    if pf is next(f for f in pack.files if f.section.name == pf.section.name):
        # Once per pack: a kind a slice sends with no template here would fail when first sent.
        declared = {name for kind, name in pack.definitions if kind == "message_kind"}
        for kind, where in sorted(sent_kinds().items()):
            if kind not in declared:
                yield pf.problem(("templates",), f"messages of kind {kind!r} are sent ({where}) "
                                                 "but have no template here")
    for i, t in enumerate(model.templates):
        for part in ("title", "body"):
            text = getattr(t, part)
            zh, en = set(PLACEHOLDER.findall(text.zh)), set(PLACEHOLDER.findall(text.en))
            if zh != en:
                yield pf.problem(("templates", i, part), f"the zh and en texts use different placeholders: "
                                                         f"{sorted(zh)} and {sorted(en)}")
        if t.sms is not None:
            used = placeholders({"title": t.title.model_dump(), "body": t.body.model_dump()})
            for j, name in enumerate(t.sms.params):
                if name not in used:
                    yield pf.problem(("templates", i, "sms", "params", j),
                                     f"the SMS param {name!r} is not a placeholder of this template")


def apply_templates(session: Session, files: list[PackFile], pack: Pack) -> Changes:
    from tongban.core.packs.sections import upsert

    changes = Changes()
    declared: set[str] = set()
    for pf in files:
        for t in pf.model.templates:
            declared.add(t.kind)
            definition = {"title": t.title.model_dump(), "body": t.body.model_dump(),
                          "sms": t.sms.model_dump() if t.sms else None}
            outcome = upsert(session, MessageTemplate, t.kind, dict(
                kind=t.kind, audience=t.audience, urgent=t.urgent, definition=definition, pack_id=pack.id))
            changes.count(outcome)
    stale = [k for k in session.scalars(select(MessageTemplate.kind).where(MessageTemplate.pack_id == pack.id))
             if k not in declared]
    if stale:
        session.execute(delete(MessageTemplate).where(MessageTemplate.kind.in_(stale)))
    return changes


register_section("messages", MessagesFile, apply=apply_templates, check=check_templates, order=45,
                 id_keys=("kind",),
                 description="Message templates (消息模板): bilingual title and body per kind, audience, "
                             "urgent (ignores quiet hours), the SMS provider's template code and params.")


def render(definition: dict[str, Any], params: dict[str, Any], locale: str | None = None) -> tuple[str, str]:
    """The title and body of a message in `locale` (the request's when None)."""

    def fill(text: str) -> str:
        return PLACEHOLDER.sub(lambda m: _value(params.get(m[1]), locale), text)

    return fill(pick(definition["title"], locale)), fill(pick(definition["body"], locale))


def sms_params(definition: dict[str, Any], params: dict[str, Any], locale: str | None = "zh") -> dict[str, str]:
    """The values the provider's template takes, by name (SMS in the mainland is sent in Chinese)."""
    sms = definition.get("sms") or {}
    return {name: _value(params.get(name), locale) for name in sms.get("params", [])}


def _value(value: Any, locale: str | None) -> str:
    if value is None:
        return ""
    if isinstance(value, dict):
        return pick(value, locale)
    return str(value)
