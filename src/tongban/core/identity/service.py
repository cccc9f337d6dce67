"""Accounts, API clients, logins and tokens."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, lazyload

from tongban.core import security
from tongban.core.access import Principal
from tongban.core.audit.log import record
from tongban.core.errors import Conflict, Invalid, NotFound
from tongban.core.i18n import N_
from tongban.core.identity.models import Account, AccountRole, ApiClient, AuthToken, Department, Region, Role
from tongban.core.timeutil import utcnow


@dataclass
class LoginOutcome:
    """The result of a login attempt; failures are returned (and committed), not raised."""

    account: Account | None = None
    client: ApiClient | None = None
    failure: str | None = None  # bad-credentials | locked | inactive


def _check_lock(subject: Account | ApiClient, now: dt.datetime) -> bool:
    return subject.locked_until is not None and subject.locked_until > now


def _fail(subject: Account | ApiClient) -> None:
    # Counted for the operator's view only. Failures never lock the account: that would let any
    # stranger lock anyone out. Guessing is throttled per account and source (core.throttle).
    subject.failed_logins += 1


def login_password(
    session: Session, *, username: str, password: str
) -> LoginOutcome:
    """Check a username and password. An account locked by an operator stays locked; failures
    are counted but lock nothing (the caller throttles them per account and source)."""
    now = utcnow()
    account = session.scalar(select(Account).where(Account.username == username))
    if account is None:
        security.verify_password(None, password)  # same cost as a real check
        record(session, actor="anonymous", action="auth.login", outcome="failed",
               details={"reason": "unknown-user"})
        return LoginOutcome(failure="bad-credentials")
    if _check_lock(account, now):
        record(session, actor=f"account:{account.id}", action="auth.login", outcome="denied",
               details={"reason": "locked"})
        return LoginOutcome(failure="locked")
    if not security.verify_password(account.password_hash, password):
        _fail(account)
        record(session, actor=f"account:{account.id}", action="auth.login", outcome="failed",
               details={"reason": "bad-password"})
        return LoginOutcome(failure="bad-credentials")
    if not account.active:
        record(session, actor=f"account:{account.id}", action="auth.login", outcome="denied",
               details={"reason": "inactive"})
        return LoginOutcome(failure="inactive")
    account.failed_logins = 0
    account.locked_until = None
    if security.needs_rehash(account.password_hash):
        account.password_hash = security.hash_password(password)
    record(session, actor=f"account:{account.id}", actor_department=account.department_id,
           action="auth.login", department_id=account.department_id)
    return LoginOutcome(account=account)


def login_client(
    session: Session, *, client_id: str, client_secret: str
) -> LoginOutcome:
    now = utcnow()
    client = session.scalar(select(ApiClient).where(ApiClient.client_id == client_id))
    if client is None:
        security.verify_password(None, client_secret)
        record(session, actor="anonymous", action="auth.client", outcome="failed",
               details={"reason": "unknown-client"})
        return LoginOutcome(failure="bad-credentials")
    if _check_lock(client, now):
        record(session, actor=f"client:{client.client_id}", action="auth.client", outcome="denied",
               details={"reason": "locked"})
        return LoginOutcome(failure="locked")
    if not security.verify_password(client.secret_hash, client_secret):
        _fail(client)
        record(session, actor=f"client:{client.client_id}", action="auth.client", outcome="failed",
               details={"reason": "bad-secret"})
        return LoginOutcome(failure="bad-credentials")
    if not client.active:
        return LoginOutcome(failure="inactive")
    client.failed_logins = 0
    record(session, actor=f"client:{client.client_id}", actor_department=client.department_id,
           action="auth.client", department_id=client.department_id)
    return LoginOutcome(client=client)


def issue_token(
    session: Session, *, kind: str, ttl_seconds: int, account: Account | None = None,
    client: ApiClient | None = None,
) -> tuple[str, AuthToken]:
    """Create a bearer token or a web session; return the secret (shown once) and its row."""
    secret = security.new_token("tbs" if kind == "session" else "tb")
    row = AuthToken(
        token_hash=security.token_digest(secret),
        kind=kind,
        account_id=account.id if account else None,
        api_client_id=client.id if client else None,
        csrf_token=secrets.token_urlsafe(24) if kind == "session" else None,
        expires_at=utcnow() + dt.timedelta(seconds=ttl_seconds),
    )
    session.add(row)
    session.flush()
    return secret, row


def revoke_token(session: Session, secret: str) -> None:
    row = session.scalar(select(AuthToken).where(AuthToken.token_hash == security.token_digest(secret)))
    if row is not None:
        row.revoked = True


def _permissions(session: Session, role_ids: list[str]) -> frozenset[str]:
    if not role_ids:
        return frozenset()
    perms: set[str] = set()
    for role in session.scalars(select(Role).where(Role.id.in_(role_ids))):
        perms.update(role.permissions)
    return frozenset(perms)


def principal_for_account(session: Session, account: Account) -> Principal:
    roles = account.role_ids
    return _principal(account, roles, _permissions(session, roles))


def _principal(account: Account, roles: list[str], permissions: frozenset[str]) -> Principal:
    return Principal(
        kind=account.kind,
        account_id=account.id,
        username=account.username,
        display_name=account.display_name,
        department_id=account.department_id,
        region_code=account.region_code,
        roles=frozenset(roles),
        permissions=permissions,
        locale=account.locale,
        elder_mode=bool(account.elder_mode),
    )


def principal_for_client(client: ApiClient, region_code: str | None) -> Principal:
    return Principal(
        kind="client",
        client_id=client.client_id,
        display_name=client.name,
        department_id=client.department_id,
        region_code=region_code,
        permissions=frozenset(client.scopes),
    )


def token_lookup(session: Session, secret: str, kind: str) -> tuple[Principal, AuthToken] | None:
    """The principal behind a live token of `kind`, or None."""
    # One statement on every authenticated request: the token, its account and the account's
    # roles with their permissions (a row per role).
    rows = session.execute(
        select(AuthToken, Account, Role.id, Role.permissions)
        .outerjoin(Account, Account.id == AuthToken.account_id)
        .outerjoin(AccountRole, AccountRole.account_id == Account.id)
        .outerjoin(Role, Role.id == AccountRole.role_id)
        .where(AuthToken.token_hash == security.token_digest(secret))
        .options(lazyload(Account.roles))
    ).all()
    if not rows:
        return None
    row, account = rows[0][0], rows[0][1]
    if row.revoked or row.kind != kind or row.expires_at <= utcnow():
        return None
    if row.account_id is not None:
        if account is None or not account.active:
            return None
        roles = {r[2]: r[3] or [] for r in rows if r[2] is not None}
        return _principal(account, sorted(roles), frozenset(p for perms in roles.values() for p in perms)), row
    if row.api_client_id is not None:
        client = session.get(ApiClient, row.api_client_id)
        if client is None or not client.active:
            return None
        dept = session.get(Department, client.department_id)
        return principal_for_client(client, dept.region_code if dept else None), row
    return None


# --- operator functions (accounts, roles, clients) -------------------------------------------


def create_account(
    session: Session,
    *,
    kind: str,
    username: str,
    password: str,
    display_name: str,
    roles: list[str] | None = None,
    department_id: str | None = None,
    region_code: str | None = None,
    id_number: str | None = None,
    phone: str | None = None,
    locale: str | None = None,
) -> Account:
    if kind not in ("resident", "staff"):
        raise Invalid(N_("Unknown account kind"), field="kind")
    if len(password) < 8:
        raise Invalid(N_("The password must have at least 8 characters"), field="password")
    if session.scalar(select(Account.id).where(Account.username == username)) is not None:
        raise Conflict(N_("This username is taken"), field="username")
    if kind == "staff":
        if department_id is None or session.get(Department, department_id) is None:
            raise Invalid(N_("Unknown department"), field="department_id")
        if region_code is None:
            region_code = session.get_one(Department, department_id).region_code
    if region_code is not None and session.get(Region, region_code) is None:
        raise Invalid(N_("Unknown region code"), field="region_code")
    role_ids = roles if roles is not None else (["resident"] if kind == "resident" else [])
    for role_id in role_ids:
        if session.get(Role, role_id) is None:
            raise Invalid(N_("Unknown role: %(role)s"), field="roles", role=role_id)
    account = Account(
        kind=kind,
        username=username,
        display_name=display_name,
        password_hash=security.hash_password(password),
        department_id=department_id,
        region_code=region_code,
        id_number=id_number,
        phone=phone,
        locale=locale,
        roles=[AccountRole(role_id=r) for r in role_ids],
    )
    session.add(account)
    session.flush()
    return account


def set_roles(session: Session, account: Account, role_ids: list[str]) -> None:
    for role_id in role_ids:
        if session.get(Role, role_id) is None:
            raise Invalid(N_("Unknown role: %(role)s"), field="roles", role=role_id)
    account.roles = [AccountRole(role_id=r) for r in sorted(set(role_ids))]
    session.flush()


def get_account(session: Session, account_id: int) -> Account:
    account = session.get(Account, account_id)
    if account is None:
        raise NotFound()
    return account


def create_client(
    session: Session, *, client_id: str, name: str, department_id: str, scopes: list[str]
) -> tuple[ApiClient, str]:
    """Register an API client; return it and its secret (shown once, stored hashed)."""
    from tongban.core.access import PERMISSIONS

    if session.get(Department, department_id) is None:
        raise Invalid(N_("Unknown department"), field="department_id")
    if session.scalar(select(ApiClient.id).where(ApiClient.client_id == client_id)) is not None:
        raise Conflict(N_("This client id is taken"), field="client_id")
    for scope in scopes:
        if scope not in PERMISSIONS:
            raise Invalid(N_("Unknown scope: %(scope)s"), field="scopes", scope=scope)
    secret = secrets.token_urlsafe(32)
    client = ApiClient(
        client_id=client_id, name=name, department_id=department_id, scopes=scopes,
        secret_hash=security.hash_password(secret),
    )
    session.add(client)
    session.flush()
    return client, secret
