"""The places pack section (`places.yaml`): categories with the walking radius of their service
circle (一刻钟便民服务圈), and the places, in the file's datum (stored in WGS-84)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Literal

from pydantic import Field, field_validator
from sqlalchemy.orm import Session

from tongban.core.errors import Invalid
from tongban.core.packs.loader import Changes, Pack, PackFile, Problem, register_section
from tongban.core.packs.models import (
    Defines,
    NonEmpty,
    PackModel,
    RefersTo,
    RegionCode,
    SectionFile,
    StableId,
    Text,
)
from tongban.places import service
from tongban.places.models import PlaceCategory

Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
Category = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,31}$")]


class HoursDecl(PackModel):
    weekly: dict[Day, list[str] | str] = {}
    holidays: Literal["open", "closed"] = "closed"

    @field_validator("weekly")
    @classmethod
    def _spans(cls, v: dict[str, list[str] | str]) -> dict[str, list[str] | str]:
        for spans in v.values():
            try:
                service.parse_spans(spans)
            except Invalid:
                raise ValueError("opening hours are spans like 08:30-17:00") from None
        return v

    def stored(self) -> dict[str, object]:
        return {"weekly": {d: service.parse_spans(s) for d, s in self.weekly.items()}, "holidays": self.holidays}


class CategoryDecl(PackModel):
    id: Annotated[Category, Defines("place_category")]
    title: Text
    walking_radius_m: int = Field(1000, ge=50, le=10_000)


class PlaceDecl(PackModel):
    id: Annotated[StableId, Defines("place")]
    category: Annotated[str, RefersTo("place_category")]
    name: Text
    region: Annotated[RegionCode, RefersTo("region")] | None = None
    address: NonEmpty | None = None
    phone: Annotated[str, Field(pattern=r"^[0-9+\-() ]{3,40}$")] | None = None
    location: Annotated[list[float], Field(min_length=2, max_length=2)]  # [lon, lat] in the file's datum
    hours: HoursDecl = HoursDecl()
    services: list[NonEmpty] = []
    accessibility: list[Literal[service.ACCESSIBILITY]] = []  # type: ignore[valid-type]
    items: Annotated[list[str], RefersTo("item")] = []


class PlacesFile(SectionFile):
    datum: Literal["wgs84", "gcj02"] = "wgs84"
    demo: bool = True  # the demo's places are invented; a region's real file says false
    categories: list[CategoryDecl] = []
    places: list[PlaceDecl] = []


def check_places(pf: PackFile, pack: Pack) -> Iterator[Problem]:
    model: PlacesFile = pf.model
    for i, p in enumerate(model.places):
        lon, lat = p.location
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            yield pf.problem(("places", i, "location"), "location is [longitude, latitude], in range", id=p.id)


def apply_places(session: Session, files: list[PackFile], pack: Pack) -> Changes:
    changes = Changes()
    position = 0
    for pf in files:
        model: PlacesFile = pf.model
        for c in model.categories:
            position += 1
            values = {"title_zh": c.title.zh, "title_en": c.title.en, "walking_radius_m": c.walking_radius_m,
                      "position": position}
            changes.upsert(session, PlaceCategory, c.id, values)
        session.flush()
        for p in model.places:
            lon, lat = p.location
            values = service.place_values(
                key=p.id, name_zh=p.name.zh, name_en=p.name.en, category=p.category, region_code=p.region,
                address=p.address, phone=p.phone, latitude=lat, longitude=lon, datum=model.datum,
                hours=p.hours.stored(), services=p.services, accessibility=list(p.accessibility),
                items=p.items, source="pack", demo=model.demo)
            changes.count(service.upsert(session, values))
    session.flush()
    return changes


register_section("places", PlacesFile, apply=apply_places, check=check_places, order=70,
                 description="Places (一张图): categories with their walking radius, and the places.")
