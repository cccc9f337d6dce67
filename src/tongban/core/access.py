"""Every permission decision in one place.

A `Principal` is who is calling: a resident, a staff member (one department, one region,
roles), an API client (one department, scopes) or nobody. Roles are bundles of the
permission codes below (declared in the pack's roles.yaml); routers and services call
`require`, `require_region` and `require_department` and never test roles themselves.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tongban.core.errors import Forbidden, NotAuthenticated, NotFound
from tongban.core.i18n import N_

# The permission vocabulary. Packs bundle these into roles; unknown codes are refused at load.
PERMISSIONS: dict[str, str] = {
    "self.read": "See one's own records, wallet, applications and messages",
    "self.apply": "Apply for services for oneself or one's wards",
    "person.read": "Read residents' records within one's region (masked unless a purpose is given)",
    "task.decide": "Take and decide tasks of one's department",
    "counter.file": "File applications at a service-hall window on a resident's behalf",
    "staff.read": "List the staff of one's own department",
    "staff.manage": "Create and change staff accounts and roles in one's own department",
    "task.reassign": "Reassign tasks within one's own department",
    "audit.read.department": "Read audit events concerning one's own department",
    "audit.read.all": "Read all audit events in one's region",
    "catalog.steward": "Manage one's department's catalog entries and decide sharing requests",
    "cockpit.view": "See indicators and alerts for one's region",
    "cockpit.region": "See the cockpit's figures and warnings of one's region and below (a leader)",
    "cockpit.department": "See the cockpit's figures and warnings of one's own department across one's region (a head of department)",
    "grid.visit": "See and record community visits in one's region",
    "hotline.handle": "Take and dispatch 12345 hotline cases",
    "person.find": "Find a resident in one's region by phone, ID number or name, masked (to recognise a caller)",
    "platform.admin": "Manage departments, staff, roles, API clients and signing keys everywhere",
    "exchange.read": "Read shared data through the exchange (API clients)",
    "quality.rectify": "See and rectify one's department's data quality issues (整改) and submit them for verification",
    "quality.run": "Run the data quality checks, verify issues and see every department's quality issues",
    "open.apply": "Apply for restricted open data (受限开放) and download it once approved",
    "places.manage": "Import and change the places (一张图) of one's region",
    "rating.review": "Decide appeals (申诉复核) against ratings of other departments in one's region",
    "appointments.serve": "See the day's bookings of one's department's windows, record no-shows, book for a resident",
    "appointments.manage": "Change the opening rules, slots and capacities of one's department's bookable services",
}



# Permissions only a platform admin may grant: a department admin manages their own staff,
# not the platform's operators or its auditors.
RESERVED_PERMISSIONS = frozenset({"platform.admin", "audit.read.all"})


def can_grant(principal: Principal, role_permissions: list[str] | frozenset[str]) -> bool:
    """May `principal` give someone a role with these permissions?"""
    if principal.is_platform_admin:
        return True
    return "staff.manage" in principal.permissions and not (set(role_permissions) & RESERVED_PERMISSIONS)


def region_prefix(code: str) -> str:
    """The significant prefix of a region code: 330000 → 33, 330200 → 3302, 330203001 → 330203001."""
    if len(code) == 6:
        if code[2:] == "0000":
            return code[:2]
        if code[4:] == "00":
            return code[:4]
    return code


def in_subtree(code: str | None, ancestor: str) -> bool:
    """Is region `code` the region `ancestor` or below it?"""
    if code is None:
        return False
    return code.startswith(region_prefix(ancestor))


@dataclass(frozen=True)
class Principal:
    kind: str  # resident | staff | client | anonymous
    account_id: int | None = None
    client_id: str | None = None
    username: str | None = None
    display_name: str | None = None
    department_id: str | None = None
    region_code: str | None = None
    roles: frozenset[str] = field(default_factory=frozenset)
    permissions: frozenset[str] = field(default_factory=frozenset)
    locale: str | None = None
    elder_mode: bool = False  # 长辈版, the account's display preference

    @property
    def actor(self) -> str:
        """How the audit chain names this caller (no personal data)."""
        if self.account_id is not None:
            return f"account:{self.account_id}"
        if self.client_id is not None:
            return f"client:{self.client_id}"
        if self.kind == "system":
            return f"system:{self.username or 'jobs'}"
        return "anonymous"

    @property
    def is_platform_admin(self) -> bool:
        return "platform.admin" in self.permissions

    def has(self, permission: str) -> bool:
        return permission in self.permissions


ANONYMOUS = Principal(kind="anonymous")
# What periodic jobs act as (a 公示 ending, say): no permissions, named in the audit chain.
SYSTEM_JOBS = Principal(kind="system", username="jobs")


class Denied(Forbidden):
    """A refusal that the web layer records in the audit chain (in its own transaction)."""

    def __init__(self, message: str, *, principal: Principal, action: str, **params: Any) -> None:
        super().__init__(message, **params)
        self.principal = principal
        self.action = action


class NotYours(NotFound):
    """A resident named an object that is not theirs, or none at all: one answer for both, 404
    "no such …", so a caller cannot tell which ids exist; and, like `Denied`, recorded in the
    audit chain (`access.denied`) by the web layer, whether the object exists or not."""

    def __init__(self, message: str, *, principal: Principal, action: str, **params: Any) -> None:
        super().__init__(message, **params)
        self.principal = principal
        self.action = action


def require_login(principal: Principal) -> None:
    if principal.kind == "anonymous":
        raise NotAuthenticated()


def require(principal: Principal, permission: str) -> None:
    """Refuse unless the caller holds `permission`."""
    require_login(principal)
    if permission not in PERMISSIONS:
        raise ValueError(f"unknown permission {permission!r}")
    if permission not in principal.permissions:
        raise Denied(N_("You are not allowed to do this"), principal=principal, action=permission)


def require_any(principal: Principal, *permissions: str) -> str:
    """Refuse unless the caller holds one of `permissions`; return the first held."""
    require_login(principal)
    for p in permissions:
        if p in principal.permissions:
            return p
    raise Denied(N_("You are not allowed to do this"), principal=principal, action="|".join(permissions))


def can_act_in_region(principal: Principal, region_code: str | None) -> bool:
    if principal.is_platform_admin:
        return True
    if principal.kind not in ("staff", "client") or principal.region_code is None:
        return False
    return in_subtree(region_code, principal.region_code)


def within(column: Any, region_code: str | None) -> Any:
    """The SQL form of `in_subtree`: `column` (a region code) is `region_code` or below it.
    No region → no rows (fail-closed)."""
    from sqlalchemy import false

    if not region_code:
        return false()
    return column.startswith(region_prefix(region_code), autoescape=True)


def home_region(principal: Principal) -> str | None:
    """The region a caller's work defaults to: their own; None (everywhere) for a platform admin."""
    return None if principal.is_platform_admin else principal.region_code


def scope(principal: Principal, *, region: Any = None, department: Any = None) -> Any:
    """THE row scope of every list and query, as a SQL condition: `region` (a region-code
    column) within the caller's subtree, `department` (a department column) the caller's own.

    One fail-closed rule: a caller without a region (or without a department, when a department
    column is given) sees nothing. A platform admin sees every row."""
    from sqlalchemy import and_, false, true

    if principal.is_platform_admin:
        return true()
    conditions = []
    if region is not None:
        if principal.kind not in ("staff", "client") or not principal.region_code:
            return false()
        conditions.append(within(region, principal.region_code))
    if department is not None:
        if not principal.department_id:
            return false()
        conditions.append(department == principal.department_id)
    return and_(true(), *conditions)


def require_another_department(principal: Principal, department_id: str | None, *, action: str) -> None:
    """Pressing a department (督办) is for someone outside it: nobody presses their own; a platform
    admin belongs to no department's chain and may press any."""
    if principal.department_id == department_id and not principal.is_platform_admin:
        raise Denied(N_("You cannot supervise your own department"), principal=principal, action=action)


def require_region(principal: Principal, region_code: str | None) -> None:
    """Staff act only within their own region's subtree."""
    if not can_act_in_region(principal, region_code):
        raise Denied(
            N_("This is outside your region"), principal=principal, action=f"region:{region_code}"
        )


# What a resident may hold: any other permission is a part of government's work.
PUBLIC_PERMISSIONS = frozenset({"self.read", "self.apply", "open.apply"})


def require_government(principal: Principal, *, action: str) -> None:
    """What is shared inside government (the full catalog, its internal DCAT export): refused
    unless the caller holds a permission of government work, not only a resident's."""
    require_login(principal)
    if not principal.permissions - PUBLIC_PERMISSIONS:
        raise Denied(N_("You are not allowed to do this"), principal=principal, action=action)


def can_act_for_department(principal: Principal, department_id: str | None) -> bool:
    return principal.is_platform_admin or (
        principal.department_id is not None and principal.department_id == department_id
    )


def owns_data(principal: Principal, owner_department_id: str | None) -> bool:
    """The data hub's owner rule, decided once: the department that owns a dataset reads it in
    full — and so does the platform admin, who operates the hub (its reads are audited alike)."""
    return can_act_for_department(principal, owner_department_id)


def require_department(principal: Principal, department_id: str | None) -> None:
    """Staff act only for their own department (platform admins for any)."""
    if not can_act_for_department(principal, department_id):
        raise Denied(
            N_("This belongs to another department"), principal=principal, action=f"department:{department_id}"
        )


def audit_scope(principal: Principal) -> str | None:
    """Which audit events the caller may read: None = all; a department id = that department's.

    Auditors (audit.read.all) read everything; department admins (audit.read.department) read
    events concerning or done by their own department; anyone else is refused.
    """
    require_login(principal)
    if "audit.read.all" in principal.permissions:
        return None
    if "audit.read.department" in principal.permissions and principal.department_id:
        return principal.department_id
    raise Denied(N_("You are not allowed to do this"), principal=principal, action="audit.read")



# --- applications (services) ---------------------------------------------------------------


def can_read_application(principal: Principal, *, applicant_account_id: int | None, department_ids: set[str],
                         region_code: str | None, filer_account_id: int | None = None, draft: bool = False,
                         proxy_account_ids: set[int] | frozenset[int] = frozenset()) -> bool:
    """Who may read an application, its parties: the applicant; whoever filed it (their proxy,
    guardian or the counter officer); the applicant's live proxies; staff of a department with a
    task in it (within their region). A draft only its owner, the one who saved it. A platform
    admin is not a party by office: `services.applications.get_application` lets them read
    through the API, audited, and the resident portal not at all."""
    if principal.account_id is None:
        return False
    if draft:
        return principal.account_id == filer_account_id
    if principal.account_id == filer_account_id:
        return True
    if principal.kind == "resident":
        return "self.read" in principal.permissions and (
            principal.account_id == applicant_account_id or principal.account_id in proxy_account_ids)
    return (principal.kind == "staff" and principal.department_id in department_ids
            and can_act_in_region(principal, region_code))


def may_override_application_read(principal: Principal) -> bool:
    """A platform admin reads any (non-draft) application through the API, audited as an override."""
    return principal.is_platform_admin


def decides_every_step(principal: Principal) -> bool:
    """Platform and department admins (who reassign) see every step of their department's tasks."""
    return principal.is_platform_admin or "task.reassign" in principal.permissions


def require_step_role(principal: Principal, role: str) -> None:
    """A review step (受理/审核/审批) is decided by staff holding the step's role."""
    if not (principal.is_platform_admin or role in principal.roles):
        raise Denied(N_("This step needs another role"), principal=principal, action=f"step:{role}")


def region_level(code: str) -> str:
    """The level of a region code: 12 digits community, 9 street, 6 province/city/county (GB/T 2260)."""
    if len(code) == 12:
        return "community"
    if len(code) == 9:
        return "street"
    if code[2:] == "0000":
        return "province"
    if code[4:] == "00":
        return "city"
    return "county"


def require_step_level(principal: Principal, level: str, region_code: str | None) -> None:
    """A review step declared at a level (street 受理/审核, county 审批 …) is decided by staff whose
    own region is at that level and contains the applicant's: a street step by staff of the
    applicant's street, a county step by the county's staff (not a street's, not the city's)."""
    if principal.is_platform_admin:
        return
    if (principal.region_code is None or region_level(principal.region_code) != level
            or not in_subtree(region_code, principal.region_code)):
        raise Denied(N_("This step is decided at another level"), principal=principal, action=f"step-level:{level}")


# --- cases (12345 诉求 and grid events) ------------------------------------------------------------

CASE_OPERATE = "hotline.handle"  # the 12345 operator: the region's cases
CASE_HANDLE = ("task.decide", "task.reassign")  # a department's officers and its head


def can_operate_case(principal: Principal, region_code: str | None) -> bool:
    """The 12345 operator of the case's region (or a platform admin)."""
    return principal.is_platform_admin or (principal.has(CASE_OPERATE) and can_act_in_region(principal, region_code))


def can_handle_case(principal: Principal, *, department_ids: set[str], region_code: str | None) -> bool:
    """Staff of the case's 主办 (or a 协办) department, within their region; a platform admin."""
    if principal.is_platform_admin:
        return True
    return (any(principal.has(p) for p in CASE_HANDLE) and principal.department_id in department_ids
            and can_act_in_region(principal, region_code))


def can_read_case(principal: Principal, *, reporter_account_id: int | None, filed_by: str,
                  department_ids: set[str], region_code: str | None) -> bool:
    """Who may read a case: its reporter; the operator of its region; its departments' staff in
    their region; whoever filed it (the grid worker); the supervising office and leaders
    (`cockpit.view`) of its region; a platform admin."""
    if principal.account_id is not None and principal.account_id == reporter_account_id:
        return True
    if can_operate_case(principal, region_code) or can_handle_case(principal, department_ids=department_ids,
                                                                  region_code=region_code):
        return True
    if principal.has("cockpit.view") and can_act_in_region(principal, region_code):
        return True
    return principal.kind == "staff" and filed_by == principal.actor


def case_scope(principal: Principal, *, region: Any, department: Any) -> Any:
    """The row scope of the case queue: the operator's region; a department's cases in its region."""
    if principal.has(CASE_OPERATE):
        return scope(principal, region=region)
    return scope(principal, region=region, department=department)


def files_cases_for_department(principal: Principal, permission: str, region_code: str) -> bool:
    """A staff member who works `permission` in `region_code` by office, not as a platform admin
    (the demo picks who takes its cases through their steps)."""
    return principal.has(permission) and not principal.is_platform_admin and can_act_in_region(principal, region_code)


# --- the cockpit -----------------------------------------------------------------------------------

COCKPIT_VIEW, COCKPIT_REGION, COCKPIT_DEPARTMENT = "cockpit.view", "cockpit.region", "cockpit.department"


def cockpit_scope(principal: Principal) -> tuple[str | None, str | None]:
    """Whose figures a caller sees in the cockpit, as (region, department); None: no limit.
    Fail closed: a leader (`cockpit.region`) their region and below; a head of department
    (`cockpit.department`) their department's cells in their region; a platform admin everything;
    anyone else (`cockpit.view` alone included) nothing."""
    require_any(principal, COCKPIT_VIEW, COCKPIT_REGION, COCKPIT_DEPARTMENT)
    if principal.is_platform_admin:
        return None, None
    if principal.has(COCKPIT_REGION) and principal.region_code:
        return principal.region_code, None
    if principal.has(COCKPIT_DEPARTMENT) and principal.region_code and principal.department_id:
        return principal.region_code, principal.department_id
    raise Denied(N_("You are not allowed to do this"), principal=principal,
                 action=f"{COCKPIT_REGION}|{COCKPIT_DEPARTMENT}")
