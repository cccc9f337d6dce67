"""Operator API: departments, staff and roles, API clients. Signing keys: web/api/keys.py."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from tongban.core import clock
from tongban.core.i18n import pick
from tongban.core.identity import admin
from tongban.core.identity.models import Account, ApiClient, Department, Role
from tongban.core.ids import Id
from tongban.webkit.deps import CurrentPrincipal, DbSession, needs
from tongban.webkit.schemas import Page

router = APIRouter(prefix="/admin", tags=["admin"])


class DepartmentOut(BaseModel):
    id: str
    name: str
    name_i18n: dict[str, str]
    kind: str
    region_code: str

    @classmethod
    def of(cls, d: Department) -> DepartmentOut:
        names = {"zh": d.name_zh, "en": d.name_en}
        return cls(id=d.id, name=pick(names), name_i18n=names, kind=d.kind, region_code=d.region_code)


class BilingualName(BaseModel):
    """Both languages, each required (tongban speaks zh-CN first, English complete)."""

    zh: str = Field(min_length=1, max_length=200)
    en: str = Field(min_length=1, max_length=200)


class DepartmentIn(BaseModel):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]{2,63}$")
    name: BilingualName
    kind: str = Field("government", pattern="^(government|street_office|utility|agency)$")
    region_code: str = Field(pattern=r"^\d{6}(\d{3}){0,2}$")


class RoleOut(BaseModel):
    id: str
    name: str
    permissions: list[str]
    staff: bool


class StaffOut(BaseModel):
    id: int
    username: str
    display_name: str
    department_id: str | None
    region_code: str | None
    roles: list[str]
    active: bool
    locked: bool

    @classmethod
    def of(cls, a: Account) -> StaffOut:
        now = clock.now()
        return cls(id=a.id, username=a.username, display_name=a.display_name, department_id=a.department_id,
                   region_code=a.region_code, roles=a.role_ids, active=a.active,
                   locked=a.locked_until is not None and a.locked_until > now)


class StaffIn(BaseModel):
    username: str = Field(min_length=3, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")
    display_name: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=8, max_length=200)
    department_id: str
    region_code: str | None = None
    roles: list[str] = Field(min_length=1)


class StaffPatch(BaseModel):
    display_name: str | None = Field(None, min_length=1, max_length=100)
    roles: list[str] | None = None
    active: bool | None = None


class ClientOut(BaseModel):
    client_id: str
    name: str
    department_id: str
    scopes: list[str]
    active: bool

    @classmethod
    def of(cls, c: ApiClient) -> ClientOut:
        return cls(client_id=c.client_id, name=c.name, department_id=c.department_id, scopes=c.scopes,
                   active=c.active)


class ClientIn(BaseModel):
    client_id: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]{2,63}$")
    name: str = Field(min_length=1, max_length=100)
    department_id: str
    scopes: list[str]


class ClientCreated(ClientOut):
    client_secret: str = Field(description="Shown once; only its hash is stored.")


@router.get("/departments", response_model=Page[DepartmentOut])
def departments(session: DbSession, principal: CurrentPrincipal) -> Page[DepartmentOut]:
    return Page(items=[DepartmentOut.of(d) for d in admin.list_departments(session, principal=principal)])


@router.post("/departments", response_model=DepartmentOut, status_code=201, dependencies=[needs("platform.admin")])
def create_department(body: DepartmentIn, session: DbSession, principal: CurrentPrincipal) -> DepartmentOut:
    dept = admin.create_department(session, principal=principal, id=body.id, name_zh=body.name.zh,
                                   name_en=body.name.en, region_code=body.region_code, kind=body.kind)
    return DepartmentOut.of(dept)


@router.get("/roles", response_model=Page[RoleOut])
def roles(session: DbSession, principal: CurrentPrincipal) -> Page[RoleOut]:
    rows: list[Role] = admin.list_roles(session, principal=principal)
    return Page(items=[RoleOut(id=r.id, name=pick({"zh": r.name_zh, "en": r.name_en}),
                                permissions=sorted(r.permissions), staff=r.staff) for r in rows])


@router.get("/departments/{department_id}/staff", response_model=Page[StaffOut])
def staff(department_id: str, session: DbSession, principal: CurrentPrincipal) -> Page[StaffOut]:
    return Page(items=[StaffOut.of(a) for a in admin.list_staff(session, principal=principal,
                                                                  department_id=department_id)])


@router.post("/staff", response_model=StaffOut, status_code=201, dependencies=[needs("staff.manage")])
def create_staff(body: StaffIn, session: DbSession, principal: CurrentPrincipal) -> StaffOut:
    account = admin.create_staff(session, principal=principal, **body.model_dump())
    return StaffOut.of(account)


@router.patch("/staff/{account_id}", response_model=StaffOut, dependencies=[needs("staff.manage")])
def update_staff(account_id: Id, body: StaffPatch, session: DbSession, principal: CurrentPrincipal) -> StaffOut:
    account = admin.update_staff(session, principal=principal, account_id=account_id,
                                 **body.model_dump(exclude_unset=True))
    return StaffOut.of(account)


@router.post("/accounts/{account_id}/unlock", response_model=StaffOut)
def unlock(account_id: Id, session: DbSession, principal: CurrentPrincipal) -> StaffOut:
    return StaffOut.of(admin.unlock_account(session, principal=principal, account_id=account_id))


@router.get("/clients", response_model=Page[ClientOut])
def clients(session: DbSession, principal: CurrentPrincipal) -> Page[ClientOut]:
    return Page(items=[ClientOut.of(c) for c in admin.list_clients(session, principal=principal)])


@router.post("/clients", response_model=ClientCreated, status_code=201, dependencies=[needs("platform.admin")])
def create_client(body: ClientIn, session: DbSession, principal: CurrentPrincipal) -> ClientCreated:
    client, secret = admin.create_client(session, principal=principal, **body.model_dump())
    return ClientCreated(**ClientOut.of(client).model_dump(), client_secret=secret)


@router.post("/clients/{client_id}/deactivate", response_model=ClientOut)
def deactivate_client(client_id: str, session: DbSession, principal: CurrentPrincipal) -> ClientOut:
    return ClientOut.of(admin.set_client_active(session, principal=principal, client_id=client_id, active=False))
