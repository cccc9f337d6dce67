"""Operator functions: departments, staff and their roles, API clients.

Every function takes the acting `Principal` and decides through `core.access`; nobody can
grant a permission they do not hold themselves (platform admins excepted).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from tongban.core import access
from tongban.core.access import Denied, Principal
from tongban.core.audit.log import record
from tongban.core.errors import Conflict, Invalid, NotFound
from tongban.core.i18n import N_
from tongban.core.identity import service as identity
from tongban.core.identity.models import Account, ApiClient, Department, Region, Role

# Who may read the platform's departments and roles: those who administer staff.
STAFF_ADMIN = ("staff.read", "staff.manage", "platform.admin")


def list_departments(session: Session, *, principal: Principal) -> list[Department]:
    """The department list is an operator's view (issue #18 item 9: residents could read it):
    staff who read or manage staff, and platform admins."""
    access.require_any(principal, *STAFF_ADMIN)
    return list(session.scalars(select(Department).order_by(Department.region_code, Department.id)))


def create_department(
    session: Session, *, principal: Principal, id: str, name_zh: str, name_en: str, region_code: str, kind: str
) -> Department:
    access.require(principal, "platform.admin")
    if session.get(Department, id) is not None:
        raise Conflict(N_("This id is taken"), field="id")
    if session.get(Region, region_code) is None:
        raise Invalid(N_("Unknown region code"), field="region_code")
    dept = Department(id=id, name_zh=name_zh, name_en=name_en, region_code=region_code, kind=kind)
    session.add(dept)
    record(session, actor=principal.actor, actor_department=principal.department_id,
           action="department.create", subject=f"department:{id}", department_id=id, region_code=region_code)
    return dept


def list_roles(session: Session, *, principal: Principal) -> list[Role]:
    """Every role with its permissions: what an attacker would map first, so operators only."""
    access.require_any(principal, *STAFF_ADMIN)
    return list(session.scalars(select(Role).order_by(Role.id)))


def list_staff(session: Session, *, principal: Principal, department_id: str) -> list[Account]:
    """The staff of one department: only for that department's own staff (or platform admins)."""
    access.require(principal, "staff.read")
    access.require_department(principal, department_id)
    rows = session.scalars(
        select(Account).where(Account.kind == "staff", Account.department_id == department_id)
        .order_by(Account.username)
    )
    return [a for a in rows if access.can_act_in_region(principal, a.region_code)]


def _check_grantable(session: Session, principal: Principal, role_ids: list[str]) -> None:
    for role_id in role_ids:
        role = session.get(Role, role_id)
        if role is None:
            raise Invalid(N_("Unknown role: %(role)s"), field="roles", role=role_id)
        if not access.can_grant(principal, role.permissions):
            raise Denied(N_("Only a platform administrator can grant this role"),
                         principal=principal, action=f"grant:{role_id}")


def create_staff(
    session: Session, *, principal: Principal, username: str, password: str, display_name: str,
    department_id: str, roles: list[str], region_code: str | None = None,
) -> Account:
    """A department admin adds staff to their own department, within their region."""
    access.require(principal, "staff.manage")
    access.require_department(principal, department_id)
    dept = session.get(Department, department_id)
    if dept is None:
        raise Invalid(N_("Unknown department"), field="department_id")
    region = region_code or dept.region_code
    access.require_region(principal, region)
    _check_grantable(session, principal, roles)
    account = identity.create_account(
        session, kind="staff", username=username, password=password, display_name=display_name,
        roles=roles, department_id=department_id, region_code=region,
    )
    record(session, actor=principal.actor, actor_department=principal.department_id, action="staff.create",
           subject=f"account:{account.id}", department_id=department_id, region_code=region,
           details={"roles": sorted(roles)})
    return account


def _staff_in_scope(session: Session, principal: Principal, account_id: int) -> Account:
    account = session.get(Account, account_id)
    if account is None or account.kind != "staff":
        raise NotFound()
    access.require_department(principal, account.department_id)
    access.require_region(principal, account.region_code)
    return account


def update_staff(
    session: Session, *, principal: Principal, account_id: int, roles: list[str] | None = None,
    active: bool | None = None, display_name: str | None = None,
) -> Account:
    access.require(principal, "staff.manage")
    account = _staff_in_scope(session, principal, account_id)
    changes: dict[str, object] = {}
    if roles is not None:
        _check_grantable(session, principal, roles)
        identity.set_roles(session, account, roles)
        changes["roles"] = sorted(roles)
    if active is not None:
        if account.id == principal.account_id and not active:
            raise Invalid(N_("You cannot deactivate your own account"), field="active")
        account.active = active
        changes["active"] = active
    if display_name is not None:
        account.display_name = display_name
        changes["display_name"] = True
    record(session, actor=principal.actor, actor_department=principal.department_id, action="staff.update",
           subject=f"account:{account.id}", department_id=account.department_id, details=changes)
    return account


def unlock_account(session: Session, *, principal: Principal, account_id: int) -> Account:
    access.require(principal, "staff.manage")
    account = session.get(Account, account_id)
    if account is None:
        raise NotFound()
    if account.kind == "staff":
        account = _staff_in_scope(session, principal, account_id)
    else:
        access.require(principal, "platform.admin")
    account.locked_until = None
    account.failed_logins = 0
    record(session, actor=principal.actor, actor_department=principal.department_id, action="account.unlock",
           subject=f"account:{account.id}", department_id=account.department_id)
    return account


def list_clients(session: Session, *, principal: Principal) -> list[ApiClient]:
    access.require(principal, "platform.admin")
    return list(session.scalars(select(ApiClient).order_by(ApiClient.client_id)))


def create_client(
    session: Session, *, principal: Principal, client_id: str, name: str, department_id: str, scopes: list[str]
) -> tuple[ApiClient, str]:
    access.require(principal, "platform.admin")
    client, secret = identity.create_client(
        session, client_id=client_id, name=name, department_id=department_id, scopes=scopes
    )
    record(session, actor=principal.actor, action="client.create", subject=f"client:{client_id}",
           department_id=department_id, details={"scopes": sorted(scopes)})
    return client, secret


def set_client_active(session: Session, *, principal: Principal, client_id: str, active: bool) -> ApiClient:
    access.require(principal, "platform.admin")
    client = session.scalar(select(ApiClient).where(ApiClient.client_id == client_id))
    if client is None:
        raise NotFound()
    client.active = active
    record(session, actor=principal.actor, action="client.update", subject=f"client:{client_id}",
           department_id=client.department_id, details={"active": active})
    return client
