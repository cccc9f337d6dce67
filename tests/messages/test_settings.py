"""Contact points and preferences: the resident gives an address, the one-time code goes there
through the outbox (the real SMTP server, the gateway), a wrong code is refused and counted,
channels need a verified address, quiet hours are checked; the settings page does the same."""

from __future__ import annotations

import json
import re

from sqlalchemy import select

from tests.messages.conftest import drain
from tests.services.test_pages import _csrf, _post, as_user
from tongban.messages.models import ContactPoint, Message, Preference


def _code_from_mail(smtp) -> str:  # type: ignore[no-untyped-def]
    m = re.search(r"\b(\d{6})\b", smtp.text(smtp.received[-1]))
    assert m, "no code in the mail"
    return m[1]


def test_an_email_address_is_verified_by_the_code_sent_to_it(client, login, demo, channels) -> None:  # type: ignore[no-untyped-def]
    smtp, sms = channels
    zhang = login("resident.zhang")
    given = client.post("/api/v1/me/contacts", headers=zhang, json={"channel": "email", "address": "zhang@example.cn"})
    assert given.status_code == 202 and given.json()["verified"] is False
    # Choosing the channel before the address is proved is refused, naming the field.
    early = client.put("/api/v1/me/messaging/preference", headers={**zhang, "Accept-Language": "en"},
                       json={"email": True})
    assert early.status_code == 422 and early.json()["field"] == "email"
    drain(demo)
    code = _code_from_mail(smtp)
    assert smtp.received[-1]["To"] == "zhang@example.cn"
    wrong = "000000" if code != "000000" else "111111"
    bad = client.post("/api/v1/me/contacts/verify", headers={**zhang, "Accept-Language": "zh-CN"},
                      json={"channel": "email", "code": wrong})
    assert bad.status_code == 422 and bad.json()["field"] == "code" and bad.json()["detail"] == "验证码不正确"
    with demo.unit_of_work() as s:
        assert s.scalars(select(ContactPoint.code_attempts)).one() == 1  # the failed try is counted
        # The code is not kept readable once it went out, and never shows in the inbox.
        assert s.scalars(select(Message.params)).one() == {"code": "******"}
    assert client.get("/api/v1/me/messages", headers=zhang).json()["items"] == []
    ok = client.post("/api/v1/me/contacts/verify", headers=zhang, json={"channel": "email", "code": code})
    assert ok.status_code == 200 and ok.json()["verified"] is True
    pref = client.put("/api/v1/me/messaging/preference", headers=zhang,
                      json={"email": True, "quiet_start": "22:00", "quiet_end": "07:00"})
    assert pref.status_code == 200 and pref.json() == {"email": True, "sms": False, "quiet_start": "22:00",
                                                       "quiet_end": "07:00"}
    settings = client.get("/api/v1/me/messaging", headers=zhang).json()
    assert settings["contacts"][0]["verified"] and settings["available"] == ["email", "sms"]
    assert sms.received == []


def test_a_mobile_number_gets_its_code_by_sms(client, login, demo, channels) -> None:  # type: ignore[no-untyped-def]
    _, sms = channels
    zhang = login("resident.zhang")
    bad = client.post("/api/v1/me/contacts", headers={**zhang, "Accept-Language": "en"},
                      json={"channel": "sms", "address": "12345"})
    assert bad.status_code == 422 and bad.json()["field"] == "address"
    with demo.unit_of_work() as s:
        assert s.scalars(select(ContactPoint)).all() == []
    assert client.post("/api/v1/me/contacts", headers=zhang,
                       json={"channel": "sms", "address": "+86 138-0000-0101"}).status_code == 202
    drain(demo)
    [request] = sms.received
    assert request["TemplateCode"] == "SMS_480020000" and request["PhoneNumbers"] == "13800000101"
    code = json.loads(request["TemplateParam"])["code"]
    ok = client.post("/api/v1/me/contacts/verify", headers=zhang, json={"channel": "sms", "code": code})
    assert ok.status_code == 200 and ok.json()["verified"] is True


def test_quiet_hours_need_both_ends_and_a_time(client, login, demo) -> None:  # type: ignore[no-untyped-def]
    zhang = {**login("resident.zhang"), "Accept-Language": "en"}
    half = client.put("/api/v1/me/messaging/preference", headers=zhang, json={"quiet_start": "22:00"})
    assert half.status_code == 422 and half.json()["field"] == "quiet_end"
    nonsense = client.put("/api/v1/me/messaging/preference", headers=zhang,
                          json={"quiet_start": "25:00", "quiet_end": "07:00"})
    assert nonsense.status_code == 422 and nonsense.json()["field"] == "quiet_start"
    with demo.unit_of_work() as s:
        assert s.scalars(select(Preference)).all() == []


def test_the_settings_page_gives_and_verifies_an_address(client, login, demo, channels) -> None:  # type: ignore[no-untyped-def]
    smtp, _ = channels
    as_user(client, "resident.zhang")
    page = client.get("/portal/messages/settings")
    assert page.status_code == 200 and "消息设置" in page.text
    r = _post(client, "/portal/messages/settings/contact",
              data={"csrf_token": _csrf(page.text), "channel": "email", "address": "not-an-address"})
    assert r.status_code == 422 and 'aria-invalid="true"' in r.text
    r = _post(client, "/portal/messages/settings/contact",
              data={"csrf_token": _csrf(page.text), "channel": "email", "address": "zhang@example.cn"})
    assert r.status_code == 200 and 'name="code"' in r.text
    drain(demo)
    r = _post(client, "/portal/messages/settings/verify",
              data={"csrf_token": _csrf(r.text), "channel": "email", "code": _code_from_mail(smtp)})
    assert r.status_code == 200 and "已验证" in r.text
    r = _post(client, "/portal/messages/settings/preference",
              data={"csrf_token": _csrf(r.text), "email": "1", "quiet_start": "21:30", "quiet_end": "08:00"})
    assert r.status_code == 200 and 'value="21:30"' in r.text
    with demo.unit_of_work() as s:
        p = s.scalars(select(Preference)).one()
        assert p.email and not p.sms and p.quiet_start.isoformat() == "21:30:00"  # type: ignore[union-attr]
