"""The core sections of a pack: regions, departments, roles, and the demo cast.

Each is registered with its model, the checks a model alone cannot make, and an apply
function that upserts its rows (a row already equal to the pack is left untouched, so
loading a pack twice changes nothing).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tongban.core import security
from tongban.core.access import PERMISSIONS, in_subtree, region_prefix
from tongban.core.identity.models import Account, AccountRole, Department, Region, Role
from tongban.core.packs.loader import (
    Changes,
    Pack,
    PackError,
    PackFile,
    Problem,
    register_section,
    register_vocabulary,
)
from tongban.core.packs.models import CastFile, DepartmentsFile, RegionEntry, RegionsFile, RolesFile

LEVELS = ("province", "city", "county", "street", "community")


def upsert(session: Session, model: type[Any], key: Any, values: dict[str, Any]) -> str:
    """Insert or update one row by primary key; return created | updated | unchanged."""
    row = session.get(model, key)
    if row is None:
        session.add(model(**values))
        return "created"
    changed = False
    for name, value in values.items():
        if getattr(row, name) != value:
            setattr(row, name, value)
            changed = True
    return "updated" if changed else "unchanged"


# --- regions ------------------------------------------------------------------------------


def _code_shape_ok(code: str, level: str) -> bool:
    if level == "province":
        return len(code) == 6 and code.endswith("0000")
    if level == "city":
        return len(code) == 6 and code.endswith("00") and not code.endswith("0000")
    if level == "county":
        return len(code) == 6 and not code.endswith("00")
    return len(code) == (9 if level == "street" else 12)


_SHAPES = {
    "province": "6 digits ending in 0000", "city": "6 digits ending in 00",
    "county": "6 digits not ending in 00", "street": "9 digits", "community": "12 digits",
}


def check_regions(pf: PackFile, pack: Pack) -> Iterator[Problem]:
    model: RegionsFile = pf.model
    for i, r in enumerate(model.regions):
        if not _code_shape_ok(r.code, r.level):
            yield pf.problem(("regions", i, "code"), f"a {r.level} code must be {_SHAPES[r.level]}, got {r.code!r}")
        rank = LEVELS.index(r.level)
        if r.parent is None:
            if rank != 0:
                yield pf.problem(("regions", i), f"a {r.level} needs a parent")
            continue
        if rank == 0:
            yield pf.problem(("regions", i, "parent"), "a province has no parent")
            continue
        parent: RegionEntry | None = pack.get("region", r.parent)
        if parent is None:
            continue  # reported as a missing reference
        if parent.level != LEVELS[rank - 1]:
            yield pf.problem(("regions", i, "parent"),
                             f"the parent of a {r.level} must be a {LEVELS[rank - 1]}, "
                             f"{r.parent!r} is a {parent.level}")
        if not r.code.startswith(region_prefix(r.parent)):
            yield pf.problem(("regions", i, "code"),
                             f"code {r.code!r} does not start with its parent's prefix {region_prefix(r.parent)!r}")


def apply_regions(session: Session, files: list[PackFile], pack: Pack) -> Changes:
    changes = Changes()
    entries = [r for pf in files for r in pf.model.regions]
    for r in sorted(entries, key=lambda r: LEVELS.index(r.level)):  # parents before children
        changes.count(upsert(session, Region, r.code, dict(
            code=r.code, level=r.level, prefix=region_prefix(r.code), parent_code=r.parent,
            name_zh=r.name.zh, name_en=r.name.en, help_line=r.help_line)))
        if LEVELS.index(r.level) < len(LEVELS) - 1:
            session.flush()
    return changes


# --- departments --------------------------------------------------------------------------


def check_departments(pf: PackFile, pack: Pack) -> Iterator[Problem]:
    model: DepartmentsFile = pf.model
    for i, d in enumerate(model.departments):
        region: RegionEntry | None = pack.get("region", d.region)
        if region is not None and d.kind == "street_office" and region.level != "street":
            yield pf.problem(("departments", i, "region"),
                             f"a street office sits in a street or town, {d.region!r} is a {region.level}")


def apply_departments(session: Session, files: list[PackFile], pack: Pack) -> Changes:
    changes = Changes()
    for pf in files:
        for d in pf.model.departments:
            changes.count(upsert(session, Department, d.id, dict(
                id=d.id, name_zh=d.name.zh, name_en=d.name.en, kind=d.kind, region_code=d.region,
                pack_id=pack.id)))
    return changes


# --- roles --------------------------------------------------------------------------------


def check_roles(pf: PackFile, pack: Pack) -> Iterator[Problem]:
    model: RolesFile = pf.model
    for i, role in enumerate(model.roles):
        seen: set[str] = set()
        for j, perm in enumerate(role.permissions):
            if perm in seen:
                yield pf.problem(("roles", i, "permissions", j), f"permission {perm!r} is listed twice")
            seen.add(perm)


def apply_roles(session: Session, files: list[PackFile], pack: Pack) -> Changes:
    changes = Changes()
    for pf in files:
        for role in pf.model.roles:
            changes.count(upsert(session, Role, role.id, dict(
                id=role.id, name_zh=role.name.zh, name_en=role.name.en,
                permissions=list(role.permissions), staff=role.staff)))
    return changes


# --- the demo cast ------------------------------------------------------------------------


def valid_resident_id(number: str) -> bool:
    """GB 11643 check: area code that existed in the birth year, real birth date, check character.

    Wraps python-stdnum, which has raised KeyError instead of answering False for some areas."""
    from stdnum.cn import ric

    try:
        return bool(ric.is_valid(number))
    except Exception:  # noqa: BLE001 - any failure inside stdnum means "not valid" here
        return False


def check_cast(pf: PackFile, pack: Pack) -> Iterator[Problem]:
    model: CastFile = pf.model
    id_numbers: dict[str, str] = {}
    for i, m in enumerate(model.cast):
        at = ("cast", i)
        region: RegionEntry | None = pack.get("region", m.region) if m.region else None
        if m.kind == "resident":
            for key in ("id_number", "phone", "region"):
                if getattr(m, key) is None:
                    yield pf.problem(at, f"a resident needs {key!r}")
            if m.department is not None:
                yield pf.problem((*at, "department"), "a resident belongs to no department")
            if m.id_number is not None:
                if not valid_resident_id(m.id_number):
                    # The number itself stays out of the message (personal data, even in a demo).
                    yield pf.problem((*at, "id_number"), "not a valid resident ID number (GB 11643)")
                elif m.sex is not None and (int(m.id_number[16]) % 2 == 1) != (m.sex == "male"):
                    yield pf.problem((*at, "sex"), "the ID number's sequence digit does not match the sex "
                                                   "(odd for male, even for female)")
                elif m.id_number in id_numbers:
                    yield pf.problem((*at, "id_number"),
                                     f"the same ID number is already used by {id_numbers[m.id_number]!r}")
                id_numbers.setdefault(m.id_number, m.username)
            if region is not None and region.level != "community":
                yield pf.problem((*at, "region"), f"a resident lives in a community, {m.region!r} is a {region.level}")
            for j, role_id in enumerate(m.roles):
                role = pack.get("role", role_id)
                if role is not None and role.staff:
                    yield pf.problem((*at, "roles", j), f"{role_id!r} is a staff role")
        else:
            if m.department is None:
                yield pf.problem(at, "a staff member needs 'department'")
            if not m.roles:
                yield pf.problem(at, "a staff member needs at least one role")
            if m.id_number is not None:
                yield pf.problem((*at, "id_number"), "staff logins carry no ID number")
            for j, role_id in enumerate(m.roles):
                role = pack.get("role", role_id)
                if role is not None and not role.staff:
                    yield pf.problem((*at, "roles", j), f"{role_id!r} is not a staff role")
            dept = pack.get("department", m.department) if m.department else None
            if dept is not None and m.region is not None and not in_subtree(m.region, dept.region):
                yield pf.problem((*at, "region"),
                                 f"region {m.region!r} is outside the department's region {dept.region!r}")


def apply_cast(session: Session, files: list[PackFile], pack: Pack) -> Changes:
    changes = Changes()
    # argon2 is slow on purpose. The cast shares one published password, so each distinct
    # password is hashed (and each stored hash checked against it) once, not per login:
    # `make run` stays quick and reloading finds nothing to change.
    hashes: dict[str, str] = {}
    checked: dict[tuple[str, str], bool] = {}

    def hash_for(password: str) -> str:
        if password not in hashes:
            hashes[password] = security.hash_password(password)
        return hashes[password]

    def matches(password_hash: str, password: str) -> bool:
        if (password_hash, password) not in checked:
            checked[(password_hash, password)] = security.verify_password(password_hash, password)
        return checked[(password_hash, password)]

    for pf in files:
        model: CastFile = pf.model
        for i, m in enumerate(model.cast):
            password = m.password or model.password
            roles = sorted(m.roles or (["resident"] if m.kind == "resident" else []))
            region = m.region
            if m.kind == "staff" and region is None and m.department is not None:
                region = pack.get("department", m.department).region
            if m.id_number is not None:
                holder = session.scalar(select(Account.username).where(Account.id_number == m.id_number))
                if holder is not None and holder != m.username:
                    raise PackError([pf.problem(("cast", i, "id_number"),
                                                "this ID number already belongs to another account")])
            values = dict(kind=m.kind, display_name=m.display_name, department_id=m.department,
                          region_code=region, id_number=m.id_number, phone=m.phone, locale=m.locale)
            account = session.scalar(select(Account).where(Account.username == m.username))
            if account is None:
                # Department, region and roles were checked against the pack, which is loaded by now.
                session.add(Account(username=m.username, password_hash=hash_for(password),
                                    roles=[AccountRole(role_id=r) for r in roles], **values))
                changes.count("created")
                continue
            changed = False
            for name, value in values.items():
                if getattr(account, name) != value:
                    setattr(account, name, value)
                    changed = True
            if account.role_ids != roles:
                account.roles = [AccountRole(role_id=r) for r in roles]
                changed = True
            if not account.active:
                account.active = True
                changed = True
            if not matches(account.password_hash, password):
                account.password_hash = hash_for(password)
                changed = True
            changes.count("updated" if changed else "unchanged")
    session.flush()
    return changes


register_vocabulary("permission", lambda: PERMISSIONS.keys())
register_section("regions", RegionsFile, apply=apply_regions, check=check_regions, order=10,
                 description="The region tree (区划): province → city → county → street → community.")
register_section("departments", DepartmentsFile, apply=apply_departments, check=check_departments, order=20,
                 description="Departments, street offices, agencies and utilities.")
register_section("roles", RolesFile, apply=apply_roles, check=check_roles, order=30,
                 description="Roles as bundles of permission codes.")
register_section("cast", CastFile, apply=apply_cast, check=check_cast, order=900, demo_only=True,
                 description="Demo logins (applied only by `tongban demo load`, in demo mode).")
