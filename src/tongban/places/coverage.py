"""The 15-minute service circle (一刻钟便民服务圈) and the map's layers.

`service_circle` is the published figure (`slices.read("places.service_circle")`, for the cockpit):
per community and category, the share of households within the category's walking radius (a pack
setting, `places.yaml`) of one of its places, counted by the data hub on the aggregate basis
(`datahub.coverage`). On the demo the households' points are the synthetic city's, drawn inside
each community's invented cell — the figure says so (`generated_points`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tongban.core.i18n import pick
from tongban.datahub.coverage import Targets, service_coverage
from tongban.places import service
from tongban.places.models import Place
from tongban.registry import reads


def targets(session: Session) -> dict[str, Targets]:
    """Each category's places and walking radius: what its service circle is measured from."""
    out: dict[str, Targets] = {}
    for cat in service.categories(session):
        rows = session.execute(select(Place.latitude, Place.longitude).where(Place.category == cat.code)).all()
        out[cat.code] = Targets([r[0] for r in rows], [r[1] for r in rows], float(cat.walking_radius_m))
    return out


def service_circle(session: Session, *, region_prefix: str = "") -> dict[str, Any]:
    """{"categories": [{code, title, walking_radius_m}], "communities": {code: {category: {households,
    covered, share}}}, "min_count", "located_households", "generated_points"}; withheld figures are
    None."""
    cov = service_coverage(session, targets(session), region_prefix=region_prefix)
    shapes = reads.shapes(session)
    return {
        "categories": [{"code": c.code, "title": pick({"zh": c.title_zh, "en": c.title_en}),
                        "walking_radius_m": c.walking_radius_m} for c in service.categories(session)],
        "communities": {code: {cat: {"households": x.households, "covered": x.covered, "share": x.share}
                               for cat, x in by_cat.items()} for code, by_cat in cov.cells.items()},
        "min_count": cov.threshold,
        "located_households": cov.located_households,
        # The demo's households stand at generated points in invented cells: say so wherever shown.
        "generated_points": bool(shapes.demo),
    }


def map_layers(session: Session) -> dict[str, Any]:
    """What the map page draws: district outlines and community cells (GeoJSON, with `demo` and
    the community's name), the places, and the service circle per community."""
    from tongban.core.identity.models import Region

    shapes = reads.shapes(session)
    names = {r.code: pick({"zh": r.name_zh, "en": r.name_en})
             for r in session.scalars(select(Region).where(Region.code.in_(
                 list(shapes.centres) + list(shapes.outlines))))}
    demo = set(shapes.demo)
    features: list[dict[str, Any]] = []
    for code, ring in shapes.outlines.items():
        features.append({"type": "Feature", "properties": {"name": names.get(code, code), "code": code,
                                                           "level": "district", "demo": code in demo},
                         "geometry": {"type": "Polygon", "coordinates": [ring + ring[:1]]}})
    for code, ring in shapes.cells().items():
        if len(ring) < 3:
            continue
        features.append({"type": "Feature", "properties": {"name": names.get(code, code), "code": code,
                                                           "level": "community", "demo": code in demo},
                         "geometry": {"type": "Polygon", "coordinates": [ring + ring[:1]]}})
    places = [{"id": p.id, "name": pick({"zh": p.name_zh, "en": p.name_en or p.name_zh}), "category": p.category,
               "lon": p.longitude, "lat": p.latitude, "demo": p.demo}
              for p in session.scalars(select(Place).order_by(Place.id).limit(5000))]
    return {"boundaries": {"type": "FeatureCollection", "features": features},
            "demo": bool(demo), "places": places, "service_circle": service_circle(session)}
