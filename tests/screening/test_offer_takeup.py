"""An offer for a single item is taken up by a one-thing application that chose that item."""

from __future__ import annotations

import datetime as dt

from tests.screening.conftest import City
from tongban.screening.models import Offer, ScreeningRun
from tongban.screening.offers import on_submit
from tongban.services.models import Application


def _offer(s, city: City, apply_via: str) -> Offer:  # type: ignore[no-untyped-def]
    run = ScreeningRun(status="done", as_of=dt.date(2026, 11, 1), backend="polars", policy_ids=["tekun"],
                       snapshot_id="t", started_by="test")
    s.add(run)
    s.flush()
    from tongban.core.identity.models import Account
    from tongban.registry.models import Person

    person = s.get_one(Person, city.under)
    account = s.query(Account).filter(Account.id_number == person.id_number).one()
    offer = Offer(run_id=run.id, policy_id="tekun", person_id=person.id, account_id=account.id, channel="inbox",
                  region_code=person.region_code, apply_via=apply_via, status="sent",
                  expires_on=dt.date(2027, 1, 1))
    s.add(offer)
    s.flush()
    return offer


def _application(s, offer: Offer, items: list[str] | None) -> Application:  # type: ignore[no-untyped-def]
    app = Application(applicant_account_id=offer.account_id, applicant_person_id=offer.person_id,
                      onething_id="onething.assistance", items=items, status="submitted", data={},
                      region_code=offer.region_code, idempotency_key=f"k{offer.id}", request_hash="h")
    s.add(app)
    s.flush()
    return app


def test_a_chosen_item_takes_its_offer_up(db, city: City) -> None:  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        offer = _offer(s, city, "item.tekun")
        app = _application(s, offer, ["item.tekun", "item.medical-assistance"])
        on_submit(s, app)
        assert (offer.status, offer.application_id) == ("applied", app.id)


def test_an_item_not_chosen_leaves_its_offer_open(db, city: City) -> None:  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        offer = _offer(s, city, "item.tekun")
        on_submit(s, _application(s, offer, None))  # the default choice is 低保, not 特困
        assert offer.status == "sent" and offer.application_id is None
