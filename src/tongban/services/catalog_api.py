"""Public catalogue API: the twelve domains with their items and one-things, and item search by
domain, life event and text. No login: the service catalogue is public information."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from tongban.core.text import FREE_TEXT_PATTERN
from tongban.services import catalog
from tongban.services.domains import DomainId, LifeEventId
from tongban.webkit.deps import DbSession
from tongban.webkit.schemas import Page, refusals

router = APIRouter(tags=["catalog"])


@router.get("/catalog/domains", response_model=Page[dict[str, Any]])
def list_domains(session: DbSession) -> Page[dict[str, Any]]:
    """The twelve domains (婴育 … 家政), each with its items, one-things and their counts."""
    return Page(items=catalog.domains(session))


@router.get("/catalog/life-events", response_model=Page[dict[str, Any]])
def list_life_events() -> Page[dict[str, Any]]:
    """The life events (人生事件) items and one-things are filed under."""
    return Page(items=catalog.life_events())


@router.get("/catalog/items", response_model=Page[dict[str, Any]], responses=refusals({
    422: "`q` holds a control or text-direction character, or is over 100 characters once its spaces are folded"}))
def search_items(session: DbSession, domain: DomainId | None = None, life_event: LifeEventId | None = None,
                 q: Annotated[str | None, Query(max_length=catalog.QUERY_MAX, json_schema_extra={
                     "pattern": FREE_TEXT_PATTERN})] = None) -> Page[dict[str, Any]]:
    """Service items (事项), filtered by `domain`, `life_event` and a text `q` (title, guide or code)."""
    return Page(items=catalog.search_items(session, domain=domain, life_event=life_event, q=q))


@router.get("/catalog/search", response_model=dict[str, Any], responses=refusals({
    422: "`q` holds a control or text-direction character, or is over 100 characters once its spaces are folded"}))
def search(session: DbSession, q: Annotated[str | None, Query(max_length=catalog.QUERY_MAX, json_schema_extra={
        "pattern": FREE_TEXT_PATTERN})] = None) -> dict[str, Any]:
    """The search box: `onethings` and `items` whose guide text holds every word of `q` (title,
    guide, who may apply, legal basis, materials, department, code; either language). An empty `q`
    finds nothing; one over 100 characters or with a control character is `422` naming `q`."""
    return catalog.search(session, q=q)


@router.get("/catalog/guide/{guide_id}", response_model=dict[str, Any])
def guide(session: DbSession, guide_id: str) -> dict[str, Any]:
    """办事指南 of a published item (`item.…`) or a one-thing (`onething.…`); `404` otherwise."""
    if guide_id.startswith("onething."):
        return catalog.onething_guide(session, guide_id)
    return catalog.item_guide(session, guide_id)
