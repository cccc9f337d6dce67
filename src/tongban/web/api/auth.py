"""Tokens and the caller's profile: POST /auth/token, POST /auth/logout, GET /me."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Form, Request
from pydantic import BaseModel

from tongban.core.access import require_login
from tongban.core.errors import Invalid, Locked, NotAuthenticated
from tongban.core.i18n import N_, pick
from tongban.core.identity import service as identity
from tongban.core.identity.models import Department, Region, Role
from tongban.core.throttle import Throttle
from tongban.webkit.deps import CurrentPrincipal, DbSession, get_settings
from tongban.webkit.schemas import refusals

router = APIRouter(tags=["auth"])


class TokenResponse(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int


@router.post("/auth/token", response_model=TokenResponse, responses=refusals({
    422: "A field the grant needs is missing or empty (`username` and `password` for `password`, `client_id` "
         "and `client_secret` for `client_credentials`), or `grant_type` is neither"}))
def token(
    request: Request,
    session: DbSession,
    grant_type: Annotated[str, Form()] = "password",
    username: Annotated[str | None, Form()] = None,
    password: Annotated[str | None, Form()] = None,
    client_id: Annotated[str | None, Form()] = None,
    client_secret: Annotated[str | None, Form()] = None,
) -> TokenResponse:
    """OAuth 2-style token endpoint: a password grant (residents, staff) or client credentials."""
    settings = get_settings(request)
    if grant_type not in ("password", "client_credentials"):
        raise Invalid(N_("Unsupported grant type"), field="grant_type")
    guard: Throttle = request.app.state.throttle
    source = request.client.host if request.client else "unknown"
    name = f"{grant_type}:{username if grant_type == 'password' else client_id}"
    guard.check_login(account=name, source=source)
    if grant_type == "password":
        if not username:
            raise Invalid(N_("This field is required"), field="username")
        if not password:
            raise Invalid(N_("This field is required"), field="password")
        outcome = identity.login_password(session, username=username, password=password)
    elif grant_type == "client_credentials":
        if not client_id:
            raise Invalid(N_("This field is required"), field="client_id")
        if not client_secret:
            raise Invalid(N_("This field is required"), field="client_secret")
        outcome = identity.login_client(session, client_id=client_id, client_secret=client_secret)
    else:
        raise Invalid(N_("Unsupported grant type"), field="grant_type")
    if outcome.failure is not None:
        # The failure count and its audit event must survive: commit them, then refuse.
        session.commit()
        guard.failed_login(account=name, source=source)
        if outcome.failure == "locked":
            raise Locked(N_("Too many failed attempts; the account is locked for a while"))
        raise NotAuthenticated(N_("Wrong username or password"))
    guard.succeeded_login(account=name, source=source)
    secret, _row = identity.issue_token(
        session, kind="bearer", ttl_seconds=settings.token_ttl_seconds,
        account=outcome.account, client=outcome.client,
    )
    return TokenResponse(access_token=secret, expires_in=settings.token_ttl_seconds)


@router.post("/auth/logout", status_code=204)
def logout(request: Request, session: DbSession, principal: CurrentPrincipal) -> None:
    require_login(principal)
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        identity.revoke_token(session, auth[7:].strip())


class RoleOut(BaseModel):
    id: str
    name: str


class MeResponse(BaseModel):
    kind: str
    username: str | None
    display_name: str | None
    department: dict[str, str] | None
    region: dict[str, str] | None
    roles: list[RoleOut]
    permissions: list[str]
    locale: str | None


@router.get("/me", response_model=MeResponse)
def me(session: DbSession, principal: CurrentPrincipal) -> MeResponse:
    """The caller's profile and roles."""
    require_login(principal)
    dept = session.get(Department, principal.department_id) if principal.department_id else None
    region = session.get(Region, principal.region_code) if principal.region_code else None
    roles = [session.get_one(Role, r) for r in sorted(principal.roles)]
    return MeResponse(
        kind=principal.kind,
        username=principal.username or principal.client_id,
        display_name=principal.display_name,
        department={"id": dept.id, "name": pick({"zh": dept.name_zh, "en": dept.name_en})} if dept else None,
        region={"code": region.code, "name": pick({"zh": region.name_zh, "en": region.name_en})}
        if region else None,
        roles=[RoleOut(id=r.id, name=pick({"zh": r.name_zh, "en": r.name_en})) for r in roles],
        permissions=sorted(principal.permissions),
        locale=principal.locale,
    )
