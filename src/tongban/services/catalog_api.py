"""Public catalogue API: the twelve domains with their items and one-things, and item search by
domain, life event and text. No login: the service catalogue is public information."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from tongban.services import catalog
from tongban.services.domains import DomainId, LifeEventId
from tongban.webkit.deps import DbSession
from tongban.webkit.schemas import Page

router = APIRouter(tags=["catalog"])


@router.get("/catalog/domains", response_model=Page[dict[str, Any]])
def list_domains(session: DbSession) -> Page[dict[str, Any]]:
    """The twelve domains (婴育 … 家政), each with its items, one-things and their counts."""
    return Page(items=catalog.domains(session))


@router.get("/catalog/life-events", response_model=Page[dict[str, Any]])
def list_life_events() -> Page[dict[str, Any]]:
    """The life events (人生事件) items and one-things are filed under."""
    return Page(items=catalog.life_events())


@router.get("/catalog/items", response_model=Page[dict[str, Any]])
def search_items(session: DbSession, domain: DomainId | None = None, life_event: LifeEventId | None = None,
                 q: str | None = None) -> Page[dict[str, Any]]:
    """Service items (事项), filtered by `domain`, `life_event` and a text `q` (title, guide or code)."""
    return Page(items=catalog.search_items(session, domain=domain, life_event=life_event, q=q))
