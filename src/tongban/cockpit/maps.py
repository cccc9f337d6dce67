"""The shapes of the one screen's map: a region's children one level down, as GeoJSON.

Districts (counties) are drawn from the pack's outlines (`geography.yaml`); a street is the union
of its communities' cells (a MultiPolygon), a community its cell — the Voronoi cells of the
community centres within their district's outline (`registry.geography.Shapes.cells`). Where a
level has no shapes (a province's cities, a district without an outline) the collection is empty
and the screen shows ranked bars only. Every feature carries `demo`: the demo's shapes are invented
(示意边界) and the page says so."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tongban.cockpit import figures, screen
from tongban.core import access
from tongban.core.i18n import pick
from tongban.core.identity.models import Region
from tongban.registry import reads


def _closed(ring: list[list[float]]) -> list[list[float]]:
    return ring + ring[:1] if ring and ring[0] != ring[-1] else ring


def region_map(session: Session, principal: access.Principal, region: str | None = None) -> dict[str, Any]:
    """The children of `region` (default: the caller's top region) as a FeatureCollection: each
    feature with `code`, `name`, `level` and `demo`; `level` is the children's level, `demo` whether
    any shape is invented. Scoped as the screen is: outside the caller's region is refused."""
    figures.scope_of(principal)  # fail closed: `cockpit.view` alone sees no figures, no map
    where = screen.place(session, principal, region)
    region, child_level = where.region, where.child_level
    features: list[dict[str, Any]] = []
    if child_level is not None:
        children = session.scalars(select(Region).where(Region.parent_code == region).order_by(Region.code)).all()
        shapes = reads.shapes(session)
        demo = set(shapes.demo)
        cells = shapes.cells() if child_level in ("street", "community") else {}
        for child in children:
            polygons: list[list[list[list[float]]]] = []
            invented = child.code in demo
            if child_level == "county":
                outline = shapes.outlines.get(child.code)
                if outline:
                    polygons = [[_closed(outline)]]
            elif child_level == "street":
                for code in sorted(c for c in cells if c.startswith(child.code) and len(cells[c]) >= 3):
                    polygons.append([_closed(cells[code])])
                    invented = invented or code in demo
            else:
                cell = cells.get(child.code)
                if cell and len(cell) >= 3:
                    polygons = [[_closed(cell)]]
            if not polygons:
                continue
            geometry = ({"type": "Polygon", "coordinates": polygons[0]} if len(polygons) == 1
                        else {"type": "MultiPolygon", "coordinates": polygons})
            features.append({"type": "Feature", "geometry": geometry,
                             "properties": {"code": child.code, "name": pick({"zh": child.name_zh, "en": child.name_en}),
                                            "level": child_level, "demo": invented}})
    return {"type": "FeatureCollection", "region": region, "level": child_level,
            "demo": any(f["properties"]["demo"] for f in features), "features": features}


def coverage(session: Session, region: str) -> tuple[bool, bool]:
    """(whether `region`'s children have shapes, whether any is invented), without drawing them:
    what the page says before (or without) the map — ranked bars only, or 示意边界."""
    level = access.region_level(region)
    at = figures.LEVELS.index(level)
    if at + 1 >= len(figures.LEVELS):
        return False, False
    shapes = reads.shapes(session)
    demo = set(shapes.demo)
    if figures.LEVELS[at + 1] == "county":
        found = [c for c in shapes.outlines if c != region and access.in_subtree(c, region)]
    else:  # streets and communities: the cells of communities whose district has an outline
        found = [c for c in shapes.centres if len(c) == 12 and c[:6] in shapes.outlines
                 and access.in_subtree(c, region)]
    return bool(found), any(c in demo for c in found)
