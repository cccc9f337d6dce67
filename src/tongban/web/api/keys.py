"""Signing keys: public keys for anyone signed in (to verify signatures); rotation for platform admins."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from tongban.core import access
from tongban.core.audit.log import record
from tongban.core.keys import PURPOSES, keyring_for, register_public_keys
from tongban.webkit.deps import CurrentPrincipal, DbSession
from tongban.webkit.schemas import Page

router = APIRouter(tags=["keys"])


class KeyOut(BaseModel):
    kid: str
    purpose: str
    active: bool
    algorithm: str = "Ed25519"
    public_key_pem: str


class RotateIn(BaseModel):
    purpose: str = Field(pattern="^(" + "|".join(PURPOSES) + ")$")


def _keys(request: Request) -> list[KeyOut]:
    ring = keyring_for(request.app.state.settings)
    return [KeyOut(kid=k.kid, purpose=k.purpose, active=k.active, public_key_pem=k.public_key_pem)
            for k in ring.list()]


@router.get("/keys/public", response_model=Page[KeyOut])
def public_keys(request: Request, principal: CurrentPrincipal) -> Page[KeyOut]:
    """Every public key, active and retired, so signatures can be checked offline."""
    access.require_login(principal)
    return Page(items=_keys(request))


@router.get("/admin/keys", response_model=Page[KeyOut])
def admin_keys(request: Request, principal: CurrentPrincipal) -> Page[KeyOut]:
    access.require(principal, "platform.admin")
    return Page(items=_keys(request))


@router.post("/admin/keys/rotate", response_model=KeyOut, status_code=201)
def rotate(body: RotateIn, request: Request, session: DbSession, principal: CurrentPrincipal) -> KeyOut:
    access.require(principal, "platform.admin")
    ring = keyring_for(request.app.state.settings)
    kid = ring.rotate(body.purpose)
    register_public_keys(session, ring)
    record(session, actor=principal.actor, actor_department=principal.department_id, action="key.rotate",
           subject=f"key:{kid}", details={"purpose": body.purpose})
    return next(k for k in _keys(request) if k.kid == kid)
