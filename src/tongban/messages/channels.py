"""The outside channels behind one interface: e-mail over SMTP (smtplib) and SMS through a
gateway that speaks Alibaba Cloud's Dysms `SendSms` (an approved template code plus its
params, signed with HMAC-SHA1 over the sorted query). In-app needs no channel: the message row
is the inbox. Each send carries the message's stable id — the e-mail `Message-ID`, the SMS
`OutId` — so a resend after a crash is the same message to the receiver."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import secrets
import smtplib
import urllib.parse
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Protocol

import httpx
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from tongban.core import clock


class MessagingSettings(BaseSettings):
    """Channel configuration, from the environment (`TONGBAN_SMTP_HOST`, `TONGBAN_SMS_ENDPOINT`, …)."""

    model_config = SettingsConfigDict(env_prefix="TONGBAN_", env_file=".env", extra="ignore")

    smtp_host: str | None = Field(None, description="SMTP server; unset: e-mail is not offered.")
    smtp_port: int = 25
    smtp_starttls: bool = False
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_from: str = "tongban <noreply@tongban.localhost>"
    smtp_timeout: float = 10.0
    message_id_domain: str = Field("tongban.localhost", description="The right-hand side of Message-IDs.")
    sms_endpoint: str | None = Field(None, description="The Dysms API endpoint, e.g. https://dysmsapi.aliyuncs.com/; "
                                                       "unset: SMS is not offered.")
    sms_access_key_id: str = ""
    sms_access_key_secret: str = ""
    sms_sign_name: str = "通办"
    sms_region_id: str = "cn-hangzhou"
    sms_timeout: float = 10.0
    public_url: str = "http://localhost:8000"
    # Test hook for the crash tests (docs/messages.md): the worker kills itself at this point.
    messages_failpoint: str | None = None


def settings() -> MessagingSettings:
    return MessagingSettings()


@dataclass(frozen=True)
class Outgoing:
    """One message, rendered for one channel and address."""

    external_id: str
    address: str
    subject: str
    body: str
    link: str | None = None
    sms_template: str | None = None
    sms_params: dict[str, str] = field(default_factory=dict)


class ChannelError(Exception):
    """The channel refused or failed; the delivery is tried again later. The message says why,
    without the address or the text."""


class Channel(Protocol):
    name: str

    def send(self, out: Outgoing) -> str | None:
        """Hand the message to the server; return the server's reference if it gives one."""


class EmailChannel:
    name = "email"

    def __init__(self, config: MessagingSettings) -> None:
        if not config.smtp_host:
            raise ChannelError("e-mail is not configured (TONGBAN_SMTP_HOST)")
        self.config = config

    def message_id(self, external_id: str) -> str:
        return f"<{external_id}@{self.config.message_id_domain}>"

    def build(self, out: Outgoing) -> EmailMessage:
        mail = EmailMessage()
        mail["From"] = self.config.smtp_from
        mail["To"] = out.address
        mail["Subject"] = out.subject
        mail["Message-ID"] = self.message_id(out.external_id)
        mail["Date"] = format_datetime(clock.now())
        mail["Auto-Submitted"] = "auto-generated"
        text = out.body + (f"\n\n{out.link}\n" if out.link else "\n")
        mail.set_content(text)
        return mail

    def send(self, out: Outgoing) -> str | None:
        c = self.config
        try:
            with smtplib.SMTP(c.smtp_host or "", c.smtp_port, timeout=c.smtp_timeout) as smtp:
                if c.smtp_starttls:
                    smtp.starttls()
                if c.smtp_user:
                    smtp.login(c.smtp_user, c.smtp_password or "")
                smtp.send_message(self.build(out))
        except (OSError, smtplib.SMTPException) as exc:
            raise ChannelError(f"SMTP: {type(exc).__name__}") from None
        return self.message_id(out.external_id)


def percent_encode(value: str) -> str:
    """Alibaba Cloud's POP encoding: RFC 3986 unreserved characters kept, space as %20."""
    return urllib.parse.quote(value, safe="-_.~")


def dysms_signature(params: dict[str, str], secret: str, method: str = "POST") -> str:
    """Signature version 1.0 (HMAC-SHA1) of Alibaba Cloud's RPC APIs, as Dysms checks it."""
    query = "&".join(f"{percent_encode(k)}={percent_encode(v)}" for k, v in sorted(params.items()))
    to_sign = f"{method}&{percent_encode('/')}&{percent_encode(query)}"
    digest = hmac.new(f"{secret}&".encode(), to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


class SmsChannel:
    """Dysms `SendSms` (API version 2017-05-25): PhoneNumbers, SignName, TemplateCode,
    TemplateParam (JSON) and OutId — our stable id — in a signed form POST."""

    name = "sms"

    def __init__(self, config: MessagingSettings) -> None:
        if not config.sms_endpoint:
            raise ChannelError("SMS is not configured (TONGBAN_SMS_ENDPOINT)")
        self.config = config

    def request_params(self, out: Outgoing) -> dict[str, str]:
        c = self.config
        if not out.sms_template:
            raise ChannelError("this message kind has no SMS template in the pack")
        params = {
            "AccessKeyId": c.sms_access_key_id, "Action": "SendSms", "Format": "JSON",
            "RegionId": c.sms_region_id, "SignatureMethod": "HMAC-SHA1", "SignatureNonce": secrets.token_hex(16),
            "SignatureVersion": "1.0", "Timestamp": clock.now().astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "Version": "2017-05-25", "PhoneNumbers": out.address, "SignName": c.sms_sign_name,
            "TemplateCode": out.sms_template, "TemplateParam": json.dumps(out.sms_params, ensure_ascii=False),
            "OutId": out.external_id,
        }
        params["Signature"] = dysms_signature(params, c.sms_access_key_secret)
        return params

    def send(self, out: Outgoing) -> str | None:
        try:
            r = httpx.post(self.config.sms_endpoint or "", data=self.request_params(out),
                           timeout=self.config.sms_timeout)
            answer = r.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise ChannelError(f"SMS gateway: {type(exc).__name__}") from None
        if answer.get("Code") != "OK":
            raise ChannelError(f"SMS gateway refused: {str(answer.get('Code'))[:60]}")
        return str(answer.get("BizId") or "") or None


def channel(name: str, config: MessagingSettings | None = None) -> Channel:
    config = config or settings()
    if name == "email":
        return EmailChannel(config)
    if name == "sms":
        return SmsChannel(config)
    raise ValueError(f"unknown channel {name!r}")


def available(config: MessagingSettings | None = None) -> list[str]:
    """The outside channels this deployment has configured."""
    config = config or settings()
    return [n for n, on in (("email", bool(config.smtp_host)), ("sms", bool(config.sms_endpoint))) if on]
