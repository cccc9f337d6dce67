"""What appointments add to other slices' pages: "预约到厅办理" under an item's guide
(`services.guide_actions`) and "预约" at a place (`places.place_actions`) — each only where a
bookable resource exists."""

from __future__ import annotations

from sqlalchemy.orm import Session

from tongban.appointments import service
from tongban.core import slices
from tongban.core.i18n import N_
from tongban.core.slices import Link


def guide_action(session: Session, item_id: str) -> Link | None:
    """预约到厅办理: book a time at a service hall for this item (None: nowhere books it)."""
    if not service.resources(session, item_id=item_id):
        return None
    return Link("appointments", N_("Book a visit to the hall"),
                N_("Choose a day and time at a service hall near you; no queue when you arrive"),
                f"/appointments/item/{item_id}")


def place_action(session: Session, place_id: int) -> Link | None:
    """预约: book a time at this place's windows, clinic or venue (None: nothing to book there)."""
    place = slices.read("places.place")(session, place_id)
    if place is None or not service.resources(session, place_key=place.key):
        return None
    return Link("appointments", N_("Book a time"), N_("Choose a day and time and skip the queue"),
                f"/appointments/place/{place_id}")
