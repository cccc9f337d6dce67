"""The pack's message templates: loaded into the database, rendered in either language, and a
template whose languages disagree on placeholders — or whose SMS takes a param it does not
have — is refused with its file and kind, writing nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.core.test_packs import copy_demo, edit
from tongban.core.packs.loader import PackError, load_pack
from tongban.messages import templates
from tongban.messages.models import MessageTemplate


def test_the_demo_templates_load_and_render_in_both_languages(db, tmp_path) -> None:  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        load_pack(s, copy_demo(tmp_path))
    with db.unit_of_work() as s:
        t = s.get_one(MessageTemplate, "screening.offer")
        params = {"policy": {"zh": "低保", "en": "Subsistence allowance"}}
        assert templates.render(t.definition, params, "zh")[1].startswith("根据您的登记信息，您可能符合「低保」")
        assert "“Subsistence allowance”" in templates.render(t.definition, params, "en")[1]
        assert templates.sms_params(t.definition, params) == {"policy": "低保"}
        urgent = set(s.scalars(select(MessageTemplate.kind).where(MessageTemplate.urgent.is_(True))))
        assert urgent == {"task.public_notice", "task.objection", "task.overdue", "contact.verify"}


@pytest.mark.parametrize(("old", "new", "message"), [
    ('en: "“{item}” was withdrawn ({step})."}', 'en: "“{item}” was withdrawn ({stage})."}',
     "the zh and en texts use different placeholders"),
    ("sms: {template: SMS_480020007, params: [policy]}", "sms: {template: SMS_480020007, params: [policy, amount]}",
     "the SMS param 'amount' is not a placeholder"),
])
def test_a_broken_template_is_refused_whole(db, tmp_path, old: str, new: str, message: str) -> None:  # type: ignore[no-untyped-def]
    pack = copy_demo(tmp_path)
    edit(pack / "messages.yaml", old, new)
    with pytest.raises(PackError) as err, db.unit_of_work() as s:
        load_pack(s, pack)
    problems = [p for p in err.value.problems if p.file.endswith("messages.yaml")]
    assert problems and message in problems[0].message and problems[0].line is not None
    with db.unit_of_work() as s:
        assert s.scalars(select(MessageTemplate)).all() == []
