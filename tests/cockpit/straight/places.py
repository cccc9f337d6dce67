"""Straight check of the service circle: every household's point measured against every place of
each category, in plain Python (haversine), no index and no NumPy."""

from __future__ import annotations

import datetime as dt
import math

from sqlalchemy import select

from tests.cockpit.straight_util import Cells, Tally
from tongban.places.models import Place, PlaceCategory
from tongban.registry.models import Address, Household


def _metres(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = (math.sin((p2 - p1) / 2) ** 2
         + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2)
    return 2 * 6_371_008.8 * math.asin(math.sqrt(a))


def service_circle(session, *, day_from: dt.date, day_to: dt.date) -> Cells:  # type: ignore[no-untyped-def]
    homes = session.execute(select(Household.region_code, Address.latitude, Address.longitude)
                            .join(Address, Address.id == Household.address_id)).all()
    homes = [h for h in homes if h[1] is not None and h[2] is not None]
    t = Tally(("households", "covered"))
    for cat in session.scalars(select(PlaceCategory)):
        places = session.execute(select(Place.latitude, Place.longitude).where(Place.category == cat.code)).all()
        for region, lat, lon in homes:
            near = any(_metres(lat, lon, plat, plon) <= cat.walking_radius_m for plat, plon in places)
            t.add(day_to, region, (cat.code,), households=1, covered=near)
    return t.result()


STRAIGHT = {"places.service_circle": service_circle}
