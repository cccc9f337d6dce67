"""Proactive services (应享尽享): screening runs, explanations, offers with one-click apply, and
risk alerts (返贫风险预警). See docs/screening.md.

Importing the package (tongban.models does) makes a submitted application take up the offer
it answers (offers.on_submit), in the submission's own transaction.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tongban.services import applications as _applications

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from tongban.services.models import Application


def _offer_taken_up(session: Session, app: Application) -> None:
    from tongban.screening.offers import on_submit

    on_submit(session, app)


if not any(getattr(f, "__name__", "") == "_offer_taken_up" for f in _applications.SUBMIT_LISTENERS):
    _applications.SUBMIT_LISTENERS.append(_offer_taken_up)
