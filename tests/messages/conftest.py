"""Messaging fixtures: a real SMTP server (aiosmtpd) and a local SMS gateway that checks each
request the way Alibaba Cloud's Dysms does (its own HMAC-SHA1 signature check, an approved
template with exactly its params), both started by the tests; the demo cast and pack."""

from __future__ import annotations

import base64
import email
import email.policy
import hashlib
import hmac
import json
import os
import signal
import socket
import threading
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import Message as EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from tests.services.conftest import DEMO_PASSWORD, demo, login  # noqa: F401 - fixtures
from tongban.core.identity.models import Account
from tongban.core.jobs.worker import Worker
from tongban.messages.models import ContactPoint, Preference

SMS_KEY_ID, SMS_SECRET = "LTAI-test-key", "test-secret-of-the-gateway"
# The gateway's approved templates (as a region registers them with the provider).
APPROVED = {"SMS_480020000": ["code"], "SMS_480020001": ["item", "step"], "SMS_480020007": ["policy"],
            "SMS_480020005": ["item", "ends_on"]}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class SmtpServer:
    host: str
    port: int
    received: list[EmailMessage] = field(default_factory=list)
    kill_pid: int | None = None  # killed when a message is accepted, before the reply goes out

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received.append(email.message_from_bytes(envelope.original_content or envelope.content,
                                                      policy=email.policy.default))
        if self.kill_pid is not None:
            os.kill(self.kill_pid, signal.SIGKILL)
            self.kill_pid = None
        return "250 Message accepted for delivery"

    def ids(self) -> list[str]:
        return [str(m["Message-ID"]) for m in self.received]

    def text(self, m: EmailMessage) -> str:
        return str(m.get_content())  # type: ignore[attr-defined]


@pytest.fixture()
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer("127.0.0.1", free_port())
    controller = Controller(server, hostname=server.host, port=server.port)
    controller.start()
    try:
        yield server
    finally:
        controller.stop()


def _pop(value: str) -> str:
    """The gateway's own percent-encoding (RFC 3986, `~` kept, space as %20)."""
    return urllib.parse.quote(value, safe="~-_.")


class Gateway(BaseHTTPRequestHandler):
    received: list[dict[str, str]]
    secret: str

    def log_message(self, *args: Any) -> None:
        pass

    def _answer(self, body: dict[str, Any], status: int = 200) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        raw = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
        params = dict(urllib.parse.parse_qsl(raw, keep_blank_values=True))
        signature = params.pop("Signature", "")
        canonical = "&".join(f"{_pop(k)}={_pop(v)}" for k, v in sorted(params.items()))
        string_to_sign = "POST&%2F&" + _pop(canonical)
        expected = base64.b64encode(hmac.new((self.secret + "&").encode(), string_to_sign.encode(),
                                             hashlib.sha1).digest()).decode()
        if params.get("AccessKeyId") != SMS_KEY_ID or not hmac.compare_digest(signature, expected):
            return self._answer({"Code": "SignatureDoesNotMatch", "Message": "Specified signature is not matched"},
                                400)
        if (params.get("Action"), params.get("Version"), params.get("SignatureMethod"),
                params.get("SignatureVersion")) != ("SendSms", "2017-05-25", "HMAC-SHA1", "1.0"):
            return self._answer({"Code": "InvalidParameter"}, 400)
        names = APPROVED.get(params.get("TemplateCode", ""))
        if names is None:
            return self._answer({"Code": "isv.SMS_TEMPLATE_ILLEGAL"})
        values = json.loads(params.get("TemplateParam") or "{}")
        if sorted(values) != sorted(names) or not all(isinstance(v, str) and v for v in values.values()):
            return self._answer({"Code": "isv.TEMPLATE_MISSING_PARAMETERS"})
        if not params.get("PhoneNumbers", "").isdigit() or not params.get("SignName"):
            return self._answer({"Code": "isv.MOBILE_NUMBER_ILLEGAL"})
        self.received.append(params)
        return self._answer({"Code": "OK", "Message": "OK", "BizId": f"biz-{len(self.received)}",
                             "RequestId": "req"})


@dataclass
class SmsGateway:
    url: str
    received: list[dict[str, str]]


@pytest.fixture()
def sms() -> Iterator[SmsGateway]:
    received: list[dict[str, str]] = []
    handler = type("TestGateway", (Gateway,), {"received": received, "secret": SMS_SECRET})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield SmsGateway(f"http://127.0.0.1:{server.server_address[1]}/", received)
    finally:
        server.shutdown()
        server.server_close()


def channel_env(smtp: SmtpServer | None = None, sms: SmsGateway | None = None) -> dict[str, str]:
    env = {"TONGBAN_MESSAGE_ID_DOMAIN": "test.tongban", "TONGBAN_PUBLIC_URL": "https://tongban.test"}
    if smtp is not None:
        env |= {"TONGBAN_SMTP_HOST": smtp.host, "TONGBAN_SMTP_PORT": str(smtp.port)}
    if sms is not None:
        env |= {"TONGBAN_SMS_ENDPOINT": sms.url, "TONGBAN_SMS_ACCESS_KEY_ID": SMS_KEY_ID,
                "TONGBAN_SMS_ACCESS_KEY_SECRET": SMS_SECRET}
    return env


@pytest.fixture()
def channels(smtp, sms, monkeypatch):  # type: ignore[no-untyped-def]
    """Both servers up and this process's channels pointed at them."""
    for k, v in channel_env(smtp, sms).items():
        monkeypatch.setenv(k, v)
    return smtp, sms


def account_id(db, username: str) -> int:  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        return int(s.scalars(select(Account.id).where(Account.username == username)).one())


def reachable(db, username: str, *, email: str | None = "zhang@example.cn", mobile: str | None = None,  # type: ignore[no-untyped-def]
              quiet: tuple[str, str] | None = None) -> int:
    """A factory: the account has verified contact points and chose those channels."""
    import datetime as dt

    from tongban.core import clock

    aid = account_id(db, username)
    with db.unit_of_work() as s:
        for channel, address in (("email", email), ("sms", mobile)):
            if address:
                s.add(ContactPoint(account_id=aid, channel=channel, address=address, verified_at=clock.now()))
        s.add(Preference(account_id=aid, email=bool(email), sms=bool(mobile),
                         quiet_start=dt.time.fromisoformat(quiet[0]) if quiet else None,
                         quiet_end=dt.time.fromisoformat(quiet[1]) if quiet else None))
    return aid


def drain(db) -> int:  # type: ignore[no-untyped-def]
    """Run the worker until nothing is ready now (the relay, then the deliveries)."""
    from tongban.messages import outbox  # its import registers the handlers

    total = 0
    for _ in range(5):
        with db.unit_of_work() as s:
            total += outbox.dispatch(s)
        ran = Worker(db).run_once()
        total += ran
        if not ran:
            break
    return total
