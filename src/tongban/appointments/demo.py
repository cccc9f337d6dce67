"""The demo's appointments (a `demo.loaded` contribution): 王建国 (`resident.wang`) holds a booking
at the 南门 social-assistance window for his disability card, on the first day it has a free
place, so that his 我的预约 and the window's day are not empty. Idempotent."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tongban.appointments import service
from tongban.appointments.models import Booking, Resource
from tongban.core.identity import service as identity
from tongban.core.identity.models import Account

RESIDENT = "resident.wang"
RESOURCE = "appt.hall-nanmen.assistance"
ITEM = "item.disability-card"


def seed_demo(session: Session, settings: Any) -> None:
    account = session.scalar(select(Account).where(Account.username == RESIDENT))
    if account is None or session.get(Resource, RESOURCE) is None:
        return
    if session.scalar(select(Booking.id).where(Booking.account_id == account.id).limit(1)) is not None:
        return
    principal = identity.principal_for_account(session, account)
    r = service.resource(session, RESOURCE)
    for day in service.days(session, r):
        free = next((s for s in day.slots if s.left and not s.past), None)
        if free is not None:
            service.book(session, principal=principal, resource_id=RESOURCE, day=day.day, start=free.start,
                         item_id=ITEM, notify=False)  # booked "earlier": no confirmation queued now
            return
