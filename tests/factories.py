"""Factories that build real rows for tests (no pack needed): a small region tree, a few
departments, the standard roles and accounts."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from tongban.core.access import PERMISSIONS
from tongban.core.identity import service as identity
from tongban.core.identity.models import Account, Department, Region, Role

REGIONS = [
    ("330000", "province", None, "浙江省", "Zhejiang"),
    ("330200", "city", "330000", "宁波市", "Ningbo"),
    ("330203", "county", "330200", "海曙区", "Haishu District"),
    ("330205", "county", "330200", "江北区", "Jiangbei District"),
    ("330203001", "street", "330203", "南门街道", "Nanmen Subdistrict"),
    ("330203002", "street", "330203", "西门街道", "Ximen Subdistrict"),
    ("330203001001", "community", "330203001", "紫金巷社区", "Zijinxiang Community"),
]

ROLE_PERMISSIONS = {
    "resident": ["self.read", "self.apply", "open.apply"],
    "officer": ["person.read", "task.decide", "counter.file", "staff.read"],
    "dept_admin": ["staff.read", "staff.manage", "task.reassign", "audit.read.department"],
    "data_steward": ["catalog.steward", "staff.read", "quality.rectify"],
    "quality_officer": ["quality.run", "staff.read"],
    "auditor": ["audit.read.all"],
    "platform_admin": list(PERMISSIONS),
    "grid_worker": ["grid.visit", "person.read"],
    "hotline_operator": ["hotline.handle"],
    "leader": ["cockpit.view", "cockpit.region"],
}


def seed_base(session: Session) -> None:
    """Regions, two departments in 海曙区 and one in 江北区, and every standard role."""
    from tongban.core.access import region_prefix

    for code, level, parent, zh, en in REGIONS:
        session.add(Region(code=code, level=level, parent_code=parent, prefix=region_prefix(code),
                           name_zh=zh, name_en=en))
    session.flush()
    session.add_all([
        Department(id="dept.haishu.mca", name_zh="海曙区民政局", name_en="Haishu Civil Affairs Bureau",
                   region_code="330203"),
        Department(id="dept.haishu.health", name_zh="海曙区卫生健康局", name_en="Haishu Health Bureau",
                   region_code="330203"),
        Department(id="dept.jiangbei.mca", name_zh="江北区民政局", name_en="Jiangbei Civil Affairs Bureau",
                   region_code="330205"),
        Department(id="dept.nanmen.office", name_zh="南门街道办事处", name_en="Nanmen Subdistrict Office",
                   region_code="330203001"),
    ])
    for role_id, perms in ROLE_PERMISSIONS.items():
        session.add(Role(id=role_id, name_zh=role_id, name_en=role_id, permissions=perms,
                         staff=role_id != "resident"))
    session.flush()


def make_staff(session: Session, username: str, *, department_id: str, roles: list[str],
               region_code: str | None = None, password: str = "password-123") -> Account:
    return identity.create_account(
        session, kind="staff", username=username, password=password, display_name=username,
        roles=roles, department_id=department_id, region_code=region_code,
    )


def make_resident(session: Session, username: str, *, id_number: str | None = None,
                  region_code: str = "330203001001", password: str = "password-123") -> Account:
    return identity.create_account(
        session, kind="resident", username=username, password=password, display_name=username,
        id_number=id_number, region_code=region_code,
    )


def token_for(client, username: str, password: str = "password-123") -> dict[str, str]:  # type: ignore[no-untyped-def]
    resp = client.post("/api/v1/auth/token", data={"username": username, "password": password})
    assert resp.status_code == 200, resp.text
    return {"Authorization": f"Bearer {resp.json()['access_token']}"}


def web_login(client, username: str, password: str = "password-123"):  # type: ignore[no-untyped-def]
    """Log in through the login form (GET for the CSRF cookie and field, then POST); return the POST."""
    import re

    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token},
                       follow_redirects=False)


def refusals(db) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    """Every refusal audited so far, one dict per chained `access.denied` event (its details and
    actor), after closing the windows still open: repeated refusals of one actor and action in
    a minute are one event with a `count` (tongban.core.audit.denials)."""
    import json

    from sqlalchemy import select

    from tongban.core.audit.denials import close_expired
    from tongban.core.audit.models import AuditEvent

    with db.unit_of_work() as s:
        close_expired(s, everything=True)
    with db.unit_of_work() as s:
        return [{"actor": e.actor, "outcome": e.outcome, **json.loads(e.details)} for e in s.scalars(
            select(AuditEvent).where(AuditEvent.action == "access.denied").order_by(AuditEvent.id))]


def refusal_count(db) -> int:  # type: ignore[no-untyped-def]
    """How many refusals were audited (the sum of the coalesced events' counts)."""
    return sum(int(e.get("count", 1)) for e in refusals(db))
