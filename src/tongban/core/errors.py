"""Errors as types. One exception handler (web.problems) maps them to RFC 9457 problem+json.

Messages are gettext message ids (English source text) translated per request; `params`
fill their placeholders. Never put personal data (ID numbers, names, phones) in a message.
"""

from __future__ import annotations

from typing import Any

from tongban.core.i18n import N_, gettext

PROBLEM_BASE = "https://tongban.dev/problems/"


class TongbanError(Exception):
    """Base for errors a caller should see. `type_` is the stable problem type slug."""

    status = 400
    type_ = "bad-request"
    title = N_("Bad request")

    def __init__(self, message: str | None = None, *, field: str | None = None, **params: Any) -> None:
        self.message = message or self.title
        self.field = field
        self.params = params
        super().__init__(self.message % params if params else self.message)

    def translated(self) -> str:
        """The message in the current request's language, its parameters filled in."""
        return gettext(self.message) % self.params if self.params else gettext(self.message)


class Invalid(TongbanError):
    status = 422
    type_ = "invalid"
    title = N_("The request is not valid")


class NotAuthenticated(TongbanError):
    status = 401
    type_ = "not-authenticated"
    title = N_("Please log in")


class Forbidden(TongbanError):
    status = 403
    type_ = "forbidden"
    title = N_("You are not allowed to do this")


class NotFound(TongbanError):
    status = 404
    type_ = "not-found"
    title = N_("Not found")


class Conflict(TongbanError):
    status = 409
    type_ = "conflict"
    title = N_("This conflicts with the current state")


class Locked(TongbanError):
    status = 423
    type_ = "account-locked"
    title = N_("The account is locked")


class TooManyRequests(TongbanError):
    status = 429
    type_ = "rate-limited"
    title = N_("Too many requests")
