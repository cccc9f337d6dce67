"""Where the regions are (`geography.yaml`): each community's centre and each district's outline,
in the pack's datum, stored in WGS-84 (`core.geo`). The synthetic city draws every address inside
its community's cell (the Voronoi cell of the community's centre among its district's communities,
clipped to the district's outline) and the places map draws the same cells.

The demo's shapes are invented and marked `demo: true`; a real region's come from its own GIS
data, with its 审图号 (map approval number), in its pack.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Annotated, Literal

import numpy as np
from pydantic import Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from tongban.core import geo
from tongban.core.packs.loader import Changes, Pack, PackFile, Problem, register_section
from tongban.core.packs.models import PackModel, RefersTo, RegionCode, SectionFile
from tongban.registry.models import RegionShape

LonLat = Annotated[list[float], Field(min_length=2, max_length=2)]


class ShapeDecl(PackModel):
    code: Annotated[RegionCode, RefersTo("region")]
    centre: LonLat | None = None
    outline: Annotated[list[LonLat], Field(min_length=3)] | None = None
    demo: bool = False


class GeographyFile(SectionFile):
    datum: Literal["wgs84", "gcj02"] = "wgs84"
    shapes: list[ShapeDecl]


def _stored(datum: str, lon: float, lat: float) -> list[float]:
    s_lat, s_lon = geo.to_stored(datum, lat, lon)
    return [round(s_lon, 7), round(s_lat, 7)]


def check_geography(pf: PackFile, pack: Pack) -> Iterator[Problem]:
    model: GeographyFile = pf.model
    for i, s in enumerate(model.shapes):
        for lon, lat in ([s.centre] if s.centre else []) + list(s.outline or []):
            if not (-180 <= lon <= 180 and -90 <= lat <= 90):
                yield pf.problem(("shapes", i), f"coordinates out of range: [{lon}, {lat}] (longitude first)",
                                 id=s.code)
                break


def apply_geography(session: Session, files: list[PackFile], pack: Pack) -> Changes:
    changes = Changes()
    for pf in files:
        model: GeographyFile = pf.model
        for s in model.shapes:
            centre = _stored(model.datum, *s.centre) if s.centre else None
            outline = [_stored(model.datum, *p) for p in s.outline] if s.outline else None
            values = {"centre_lon": centre[0] if centre else None, "centre_lat": centre[1] if centre else None,
                      "outline": outline, "demo": s.demo}
            changes.upsert(session, RegionShape, s.code, values)
    session.flush()
    return changes


register_section("geography", GeographyFile, apply=apply_geography, check=check_geography, order=12,
                 id_keys=("code",),
                 description="Where the regions are: community centres and district outlines (demo shapes marked).")


@dataclass(frozen=True)
class Shapes:
    """Community centres (lon, lat) and district outlines (6-digit code → ring), WGS-84."""

    centres: dict[str, tuple[float, float]] = field(default_factory=dict)
    outlines: dict[str, list[list[float]]] = field(default_factory=dict)
    demo: tuple[str, ...] = ()

    def districts(self) -> dict[str, list[str]]:
        """District code → its communities with a centre, sorted (the cells' order)."""
        out: dict[str, list[str]] = {}
        for code in sorted(self.centres):
            if len(code) == 12:
                out.setdefault(code[:6], []).append(code)
        return out

    def cells(self) -> dict[str, list[list[float]]]:
        """Each community's cell as a ring of [lon, lat] (the district's outline when it has one)."""
        out: dict[str, list[list[float]]] = {}
        for district, codes in self.districts().items():
            outline = self.outlines.get(district)
            if outline is None:
                continue
            centres = np.array([self.centres[c] for c in codes], dtype=np.float64)
            for code, ring in zip(codes, geo.voronoi_cells(centres, outline), strict=True):
                out[code] = [[round(x, 6), round(y, 6)] for x, y in ring]
        return out


def shapes(session: Session) -> Shapes:
    """The stored shapes (a published read: `registry.shapes`)."""
    rows = session.scalars(select(RegionShape)).all()
    return Shapes(
        centres={r.code: (r.centre_lon, r.centre_lat) for r in rows
                 if r.centre_lon is not None and r.centre_lat is not None},
        outlines={r.code: r.outline for r in rows if r.outline and len(r.code) == 6},
        demo=tuple(sorted(r.code for r in rows if r.demo)))
