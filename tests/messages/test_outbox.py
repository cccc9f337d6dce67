"""The outbox: a message goes out only if its transaction commits, on the channels the resident
chose, after their quiet hours unless urgent, with a stable id; a failing channel is tried
again with back-off and its state is kept per channel."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import select

from tests.messages.conftest import account_id, drain, reachable
from tongban import messages
from tongban.core.clock import SHANGHAI, now
from tongban.core.jobs.models import Job
from tongban.messages.models import Delivery, Message

PARAMS = {"item": {"zh": "出生一件事", "en": "Birth one-thing"}, "step": {"zh": "已提交", "en": "submitted"}}


def test_a_message_whose_transaction_rolls_back_is_never_sent(demo, channels) -> None:  # type: ignore[no-untyped-def]
    smtp, _ = channels
    zhang = reachable(demo, "resident.zhang")
    with pytest.raises(RuntimeError), demo.unit_of_work() as s:
        messages.send(s, to=zhang, kind="application.submitted", params=PARAMS, link="/portal/applications/1")
        raise RuntimeError("the submission failed after the message was queued")
    drain(demo)
    assert smtp.received == []
    with demo.unit_of_work() as s:
        assert s.scalars(select(Message)).all() == [] and s.scalars(select(Delivery)).all() == []
    # The same send in a transaction that commits goes out, once, with its stable id.
    with demo.unit_of_work() as s:
        [uid] = messages.send(s, to=zhang, kind="application.submitted", params=PARAMS, link="/portal/applications/1")
    drain(demo)
    assert smtp.ids() == [f"<{uid}.email@test.tongban>"]
    mail = smtp.received[0]
    assert mail["To"] == "zhang@example.cn" and mail["Subject"] == "您的申请已提交"
    body = smtp.text(mail)
    assert "出生一件事" in body and "已提交" in body and "https://tongban.test/portal/applications/1" in body
    with demo.unit_of_work() as s:
        d = s.scalars(select(Delivery)).one()
        assert (d.status, d.channel, d.attempts, d.external_id) == ("sent", "email", 1, f"{uid}.email")
    drain(demo)
    assert len(smtp.received) == 1  # a sent delivery is not sent again


def test_quiet_hours_delay_a_message_but_not_an_urgent_one(demo, channels, clock) -> None:  # type: ignore[no-untyped-def]
    smtp, _ = channels
    zhang = reachable(demo, "resident.zhang", quiet=("22:00", "07:00"))
    clock.set(dt.datetime(2025, 6, 11, 23, 30, tzinfo=SHANGHAI))
    with demo.unit_of_work() as s:
        [normal] = messages.send(s, to=zhang, kind="application.submitted", params=PARAMS)
        [urgent] = messages.send(s, to=zhang, kind="task.public_notice",
                                 params={**PARAMS, "ends_on": "2025-06-18"})
    drain(demo)
    assert smtp.ids() == [f"<{urgent}.email@test.tongban>"]  # the 公示 deadline does not wait
    with demo.unit_of_work() as s:
        waiting = s.scalars(select(Delivery).where(Delivery.external_id == f"{normal}.email")).one()
        assert waiting.status == "queued"
        assert waiting.not_before == dt.datetime(2025, 6, 12, 7, 0, tzinfo=SHANGHAI)
    clock.set(dt.datetime(2025, 6, 12, 6, 59, tzinfo=SHANGHAI))
    drain(demo)
    assert len(smtp.received) == 1
    clock.set(dt.datetime(2025, 6, 12, 7, 0, 30, tzinfo=SHANGHAI))
    drain(demo)
    assert smtp.ids() == [f"<{urgent}.email@test.tongban>", f"<{normal}.email@test.tongban>"]
    # Either way, both were in the in-app inbox at once.
    with demo.unit_of_work() as s:
        assert s.scalars(select(Message.created_at)).all() == [dt.datetime(2025, 6, 11, 23, 30, tzinfo=SHANGHAI)] * 2


def test_sms_goes_through_the_gateway_signed_with_the_approved_template(demo, channels) -> None:  # type: ignore[no-untyped-def]
    _, sms = channels
    zhang = reachable(demo, "resident.zhang", email=None, mobile="13800000101")
    with demo.unit_of_work() as s:
        [uid] = messages.send(s, to=zhang, kind="application.submitted", params=PARAMS)
        messages.send(s, to=zhang, kind="application.withdrawn", params=PARAMS)  # no SMS template: in-app only
    drain(demo)
    [request] = sms.received
    assert request["PhoneNumbers"] == "13800000101" and request["TemplateCode"] == "SMS_480020001"
    assert json.loads(request["TemplateParam"]) == {"item": "出生一件事", "step": "已提交"}
    assert request["OutId"] == f"{uid}.sms"
    with demo.unit_of_work() as s:
        d = s.scalars(select(Delivery)).one()
        assert (d.status, d.provider_ref) == ("sent", "biz-1")


def test_a_refused_delivery_is_retried_with_back_off_and_its_state_kept(demo, channels, clock, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    _, sms = channels
    monkeypatch.setenv("TONGBAN_SMS_ACCESS_KEY_SECRET", "a-wrong-secret")  # the gateway refuses the signature
    zhang = reachable(demo, "resident.zhang", email=None, mobile="13800000101")
    with demo.unit_of_work() as s:
        [uid] = messages.send(s, to=zhang, kind="application.submitted", params=PARAMS)
    drain(demo)
    assert sms.received == []
    with demo.unit_of_work() as s:
        d = s.scalars(select(Delivery)).one()
        assert (d.status, d.attempts) == ("queued", 1) and "SignatureDoesNotMatch" in (d.last_error or "")
        again = s.scalars(select(Job).where(Job.kind == "messages.deliver", Job.status == "queued")).one()
        wait = (again.run_at - now()).total_seconds()
        assert 8 <= wait <= 12  # the queue's back-off after one try: 10 s ± 20 %
    monkeypatch.setenv("TONGBAN_SMS_ACCESS_KEY_SECRET", "test-secret-of-the-gateway")
    clock.advance(dt.timedelta(seconds=13))
    drain(demo)
    assert [r["OutId"] for r in sms.received] == [f"{uid}.sms"]
    with demo.unit_of_work() as s:
        d = s.scalars(select(Delivery)).one()
        assert (d.status, d.attempts, d.last_error) == ("sent", 2, None)


def test_without_a_chosen_channel_a_message_stays_in_app(demo, channels) -> None:  # type: ignore[no-untyped-def]
    smtp, sms = channels
    with demo.unit_of_work() as s:
        messages.send(s, to=account_id(demo, "resident.wang"), kind="application.submitted", params=PARAMS)
    drain(demo)
    assert smtp.received == [] and sms.received == []
    with demo.unit_of_work() as s:
        assert s.scalars(select(Message.dispatched_at)).one() is not None
        assert s.scalars(select(Delivery)).all() == []


def test_send_refuses_an_unknown_kind_and_missing_params(demo) -> None:  # type: ignore[no-untyped-def]
    with demo.unit_of_work() as s:
        with pytest.raises(ValueError, match="unknown message kind"):
            messages.send(s, to=1, kind="no.such_kind")
        with pytest.raises(ValueError, match="step"):
            messages.send(s, to=1, kind="application.submitted", params={"item": "x"})
        with pytest.raises(ValueError, match="path"):
            messages.send(s, to=1, kind="application.submitted", params=PARAMS, link="https://evil.example/")
