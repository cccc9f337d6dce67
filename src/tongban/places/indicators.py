"""The places slice's figure for the cockpit (`core.indicators`): the 15-minute service circle
(一刻钟便民服务圈) — per community and category, households within the category's walking radius
of one of its places. The counts are the service circle's (`coverage.service_circle`) before
release: the cockpit releases them on the aggregate basis, across every level it shows."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from tongban.core.i18n import N_, pick
from tongban.core.indicators import Cell, Indicator
from tongban.datahub.coverage import coverage_counts
from tongban.places.coverage import targets
from tongban.places.models import PlaceCategory


def service_circle(session: Session, *, day_from: dt.date, day_to: dt.date) -> list[Cell]:
    """Stock (as the places and households stand now, shown on `day_to`): located households and
    households covered, by community and category."""
    counts = coverage_counts(session, targets(session))
    return [Cell(day_to, community, (category,), {"households": float(n), "covered": float(by[community])})
            for category, by in sorted(counts.covered.items())
            for community, n in sorted(counts.households.items())]


def value_labels(session: Session, dimension: str) -> dict[str, str]:
    """A category of place by its title."""
    if dimension != "category":
        return {}
    return {c: pick({"zh": zh, "en": en}) for c, zh, en in
            session.execute(select(PlaceCategory.code, PlaceCategory.title_zh, PlaceCategory.title_en))}


INDICATORS = (
    Indicator(key="places.service_circle", label=N_("15-minute service circle coverage"),
              definition=N_("Households living within the walking radius of a place of the category (一刻钟便民服务圈), "
                            "out of the households with a located address, per community and category, as they "
                            "stand now."),
              measures=("households", "covered"), show="ratio", of=("covered", "households"), compute=service_circle,
              dimensions=("category",), kind="stock", subjects="households", unit="%",
              measure_labels={"households": N_("Households"), "covered": N_("Households covered")},
              dimension_labels={"category": N_("Category of place")}, value_labels=value_labels),
)
