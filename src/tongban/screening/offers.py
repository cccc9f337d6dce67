"""Offers (主动推送, 一键申办): eligible and not enrolled → an offer. A resident with an account is
told in their inbox (written by a job) and one click opens the policy's item or one-thing with
consent asked and the form prefilled; a person without an account lands on the community
worker's visit list (上门服务). sent → seen → applied | declined | expired.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from tongban import messages
from tongban.core import access, masking, paging
from tongban.core.audit.log import record
from tongban.core.errors import Conflict, Invalid, NotFound
from tongban.core.i18n import N_
from tongban.core.jobs.queue import enqueue
from tongban.core.jobs.registry import handler
from tongban.core.timeutil import today_local, utcnow
from tongban.datahub.exchange import basis_for, release, subjects_fingerprint
from tongban.registry import reads
from tongban.screening.engine import PolicyInfo
from tongban.screening.models import Offer, ScreeningCase, ScreeningRun
from tongban.services import catalogue
from tongban.services.models import Application
from tongban.services.onething import default_choice

MESSAGE_KINDS = ("screening.offer",)  # sent (`messages.kinds`)

if TYPE_CHECKING:
    from tongban.registry.models import Address

OPEN = ("sent", "seen")
OFFER_DAYS = 90  # an offer not taken up expires after this many days
DECLINE_QUIET_DAYS = 180  # a declined offer is not made again for this long
VISIT_PURPOSE = "上门服务：告知可享受的政策 (home visit about entitlements)"


def apply_target(apply_via: str | None) -> tuple[str, str] | None:
    """("onething" | "item", id) from `onething.birth` / `item.x`; the pack ids keep their prefix."""
    if not apply_via or "." not in apply_via:
        return None
    kind = apply_via.split(".", 1)[0]
    return (kind, apply_via) if kind in ("onething", "item") else None


def make_offers(session: Session, *, run: ScreeningRun, cases: Sequence[ScreeningCase],
                policies: dict[str, PolicyInfo]) -> int:
    """Offer each case whose policy says how to apply, unless an offer is open, applied for, or
    declined recently. Expires the run's stale offers first."""
    today = today_local()
    expire(session, today=today, actor=run.started_by)
    candidates = [c for c in cases if apply_target(policies[c.policy_id].apply_via)]
    if candidates:  # an offer is made to a registered person (a Parquet city's cases may not be)
        present = reads.persons_present(session, sorted({c.person_id for c in candidates}))
        candidates = [c for c in candidates if c.person_id in present]
    if not candidates:
        return 0
    person_ids = sorted({c.person_id for c in candidates})
    blocked: set[tuple[str, int]] = set()
    quiet_since = utcnow() - dt.timedelta(days=DECLINE_QUIET_DAYS)
    for chunk in range(0, len(person_ids), 5000):
        part = person_ids[chunk:chunk + 5000]
        for pid, person_id, status, decided in session.execute(
                select(Offer.policy_id, Offer.person_id, Offer.status, Offer.decided_at)
                .where(Offer.person_id.in_(part), Offer.status.in_((*OPEN, "applied", "declined")))):
            if status != "declined" or (decided is not None and decided >= quiet_since):
                blocked.add((pid, person_id))
    accounts = _accounts(session, person_ids)
    made = 0
    for c in candidates:
        if (c.policy_id, c.person_id) in blocked:
            continue
        account_id = accounts.get(c.person_id)
        session.add(Offer(run_id=run.id, policy_id=c.policy_id, person_id=c.person_id, account_id=account_id,
                          channel="inbox" if account_id else "visit", region_code=c.region_code,
                          apply_via=policies[c.policy_id].apply_via, status="sent", created_at=utcnow(),
                          expires_on=today + dt.timedelta(days=OFFER_DAYS), version=1))
        blocked.add((c.policy_id, c.person_id))
        made += 1
    session.flush()
    record(session, actor=run.started_by, actor_department=run.department_id, action="screening.offers",
           subject=f"screening_run:{run.id}", region_code=run.region_code, details={"offers": made})
    if made:
        enqueue(session, kind="screening.notify_offers", payload={"run_id": run.id})
    return made


def _accounts(session: Session, person_ids: list[int]) -> dict[int, int]:
    """person id → the active resident account linked to it (by resident ID number)."""
    return reads.resident_accounts(session, person_ids, active_only=True)


@handler("screening.notify_offers")
def notify_offers(session: Session, payload: dict[str, Any]) -> None:
    """The inbox messages of a run's new offers (one per offer still waiting)."""
    run_id = int(payload["run_id"])
    offers = session.scalars(select(Offer).where(Offer.run_id == run_id, Offer.channel == "inbox",
                                                 Offer.status == "sent").order_by(Offer.id))
    from tongban.screening.engine import policy_engine

    titles = {pid: info.title for pid, info in policy_engine().policies(session).items()}
    for o in offers:
        if o.account_id is None:
            continue
        messages.send(session, to=o.account_id, kind="screening.offer", link=f"/portal/offers/{o.id}",
                      params={"offer_id": o.id, "policy_id": o.policy_id, "policy": titles.get(o.policy_id),
                              "policy_title": titles.get(o.policy_id), "apply_via": o.apply_via,
                              "link": f"/portal/offers/{o.id}"})


def expire(session: Session, *, today: dt.date, actor: str) -> int:
    stale = list(session.scalars(select(Offer).where(Offer.status.in_(OPEN), Offer.expires_on < today)))
    for o in stale:
        _move(session, o, "expired", actor=actor)
    return len(stale)


def _move(session: Session, offer: Offer, status: str, *, actor: str, details: dict[str, Any] | None = None) -> None:
    offer.status = status
    offer.version += 1
    if status == "seen":
        offer.seen_at = utcnow()
    else:
        offer.decided_at = utcnow()
    record(session, actor=actor, action=f"offer.{status}", subject=f"offer:{offer.id}",
           region_code=offer.region_code,
           details={"policy": offer.policy_id, "person": masking.subject("person", offer.person_id), **(details or {})})


# --- the resident -----------------------------------------------------------------------------------


def my_offers(session: Session, *, principal: access.Principal, open_only: bool = True,
              limit: int = paging.DEFAULT_LIMIT, cursor: str | None = None) -> tuple[list[Offer], str | None]:
    """The caller's offers (open ones only, unless `open_only` is false), newest first, one page."""
    access.require(principal, "self.read")
    q = select(Offer).where(Offer.account_id == principal.account_id)
    if open_only:
        q = q.where(Offer.status.in_(OPEN))
    return paging.keyset(session, q, Offer.id, limit=limit, cursor=cursor)


def _own(session: Session, principal: access.Principal, offer_id: int) -> Offer:
    access.require(principal, "self.read")
    offer = session.get(Offer, offer_id)
    if offer is None or offer.account_id is None or offer.account_id != principal.account_id:
        # Another's offer or none: one answer, audited either way (issue #18 item 6).
        raise access.NotYours(N_("No such offer"), principal=principal, action="offer.own")
    return offer


def see(session: Session, *, principal: access.Principal, offer_id: int) -> Offer:
    """The resident opened the offer: sent → seen (once)."""
    offer = _own(session, principal, offer_id)
    if offer.status == "sent":
        _move(session, offer, "seen", actor=principal.actor)
    return offer


def accept(session: Session, *, principal: access.Principal, offer_id: int, consent: bool) -> dict[str, Any]:
    """一键申办: open the offered item or one-thing; with `consent` (asked on the page), the
    one-thing's prefill consent is given and the prefilled form comes back. The offer becomes
    applied when the application is submitted."""
    from tongban.services import onething, prefill

    access.require(principal, "self.apply")
    offer = see(session, principal=principal, offer_id=offer_id)
    if offer.status not in OPEN:
        raise Conflict(N_("This offer is no longer open"), field="status")
    target = apply_target(offer.apply_via)
    if target is None:
        raise Conflict(N_("This offer cannot be applied for online"), field="apply_via")
    kind, target_id = target
    out: dict[str, Any] = {"offer_id": offer.id, "kind": kind, "target_id": target_id, "consent_id": None,
                           "prefill": {}}
    if kind == "onething":
        ot = onething.get_onething(session, target_id)
        out["form_url"] = f"/api/v1/onethings/{target_id}/form"
        if consent:
            given = prefill.give_consent(session, principal=principal, onething=ot)
            elements = onething.elements_of(session, onething.items_of(session, ot))
            out["consent_id"] = given.id
            out["form_url"] += f"?consent_id={given.id}"
            out["prefill"] = prefill.prefill(session, principal=principal, consent=given, elements=elements)
    else:
        item = onething.get_item(session, target_id)
        out["form_url"] = None  # a single item has no merged form: its fields are asked on submission
        if consent:  # its form prefilled from the records, as a one-thing's
            given = prefill.give_consent(session, principal=principal, onething=item)
            out["consent_id"] = given.id
            out["prefill"] = prefill.prefill(session, principal=principal, consent=given,
                                             elements=onething.elements_of(session, [item]))
    out["submit"] = {"url": "/api/v1/applications", kind + "_id": target_id, "consent_id": out["consent_id"]}
    return out


def decline(session: Session, *, principal: access.Principal, offer_id: int) -> Offer:
    offer = _own(session, principal, offer_id)
    if offer.status not in OPEN:
        raise Conflict(N_("This offer is no longer open"), field="status")
    _move(session, offer, "declined", actor=principal.actor)
    return offer


# Built once: this runs on every submission.
_OPEN_OFFERS_VIA = select(Offer).where(Offer.account_id == bindparam("account_id"),
                                       Offer.apply_via.in_(bindparam("via", expanding=True)), Offer.status.in_(OPEN))


def on_submit(session: Session, app: Application) -> None:
    """A submitted application for an offered item or one-thing takes the offer up (applied)."""
    via = [v for v in (app.onething_id, app.item_id) if v]
    if app.onething_id:  # an offer of one of the one-thing's chosen items is taken up as well
        chosen = app.items
        if chosen is None:  # the one-thing from the catalogue snapshot (no query on the submission path)
            onething = catalogue.current(session).onethings.get(app.onething_id)
            chosen = default_choice(onething.definition) if onething else []
        via += list(chosen)
    if not via or app.applicant_account_id is None:
        return
    for offer in session.scalars(_OPEN_OFFERS_VIA, {"account_id": app.applicant_account_id, "via": via}):
        offer.application_id = app.id
        _move(session, offer, "applied", actor=f"account:{app.applicant_account_id}",
              details={"application": app.id})


# --- the community worker ---------------------------------------------------------------------------


def visit_list(session: Session, *, principal: access.Principal, region_code: str | None = None) -> list[dict[str, Any]]:
    """上门服务: the offers to people without an account in the worker's community, with the name
    and address the visit needs (released on the department's grant, audited)."""
    access.require(principal, "grid.visit")
    region = region_code or principal.region_code
    access.require_region(principal, region)
    basis = basis_for(session, principal=principal, dataset_id="ds.person", subject_id=None)
    where = (Offer.channel == "visit", Offer.status.in_(OPEN), access.scope(principal, region=Offer.region_code),
             access.within(Offer.region_code, region))
    people = {p.id: (rank, p, a) for rank, p, a in
              reads.persons_by_address(session, select(Offer.person_id).where(*where))}
    offers = [o for o in session.scalars(select(Offer).where(*where)) if o.person_id in people]
    # The order of the visit: community, then street order (the registry's), then offer.
    offers.sort(key=lambda o: (o.region_code, people[o.person_id][0], o.id))
    rows = [(o, people[o.person_id][1], people[o.person_id][2]) for o in offers]
    out = []
    for offer, person, address in rows:
        values, _ = release(basis, {"name": person.name, "phone": person.phone, "birth_date": person.birth_date,
                                    "sex": person.sex}, clear=True)
        out.append({"offer_id": offer.id, "policy_id": offer.policy_id, "status": offer.status,
                    "person_id": person.id, "region_code": offer.region_code, "expires_on": offer.expires_on,
                    "address": _address(address), **values})
    record(session, actor=principal.actor, actor_department=principal.department_id, action="screening.visit_list",
           subject=f"region:{region}", region_code=region, purpose=VISIT_PURPOSE,
           details={"offers": len(out), "subjects_hmac": subjects_fingerprint(sorted({r["person_id"] for r in out}))})
    return out


def _address(a: Address | None) -> str | None:
    if a is None:
        return None
    parts = [a.road, f"{a.number}号"]
    if a.building:
        parts.append(f"{a.building}幢")
    if a.unit:
        parts.append(f"{a.unit}单元")
    if a.room:
        parts.append(f"{a.room}室")
    return "".join(parts)


def record_visit(session: Session, *, principal: access.Principal, offer_id: int, outcome: str) -> Offer:
    """The worker visited: the person was told (seen) or declined."""
    access.require(principal, "grid.visit")
    if outcome not in ("seen", "declined"):
        raise Invalid(N_("Choose one of the listed values"), field="outcome")
    offer = session.get(Offer, offer_id)
    if offer is None or offer.channel != "visit":
        raise NotFound(N_("No such offer"))
    access.require_region(principal, offer.region_code)
    if offer.status not in OPEN or (outcome == "seen" and offer.status == "seen"):
        raise Conflict(N_("This offer is no longer open"), field="status")
    _move(session, offer, outcome, actor=principal.actor)
    return offer


# --- take-up for the cockpit -------------------------------------------------------------------------


def take_up(session: Session, *, principal: access.Principal, level: int = 6) -> list[dict[str, Any]]:
    """Offers made and taken up (applied), per policy and region (6 county, 9 street, 12 community digits)."""
    access.require_any(principal, "cockpit.view", "person.read")
    if level not in (6, 9, 12):
        raise Invalid(N_("Choose one of the listed values"), field="level")
    region = func.substr(Offer.region_code, 1, level)
    rows = session.execute(select(Offer.policy_id, region, Offer.status, func.count()).group_by(
        Offer.policy_id, region, Offer.status))
    agg: dict[tuple[str, str], dict[str, int]] = {}
    for policy_id, code, status, n in rows:
        if not access.can_act_in_region(principal, code):
            continue
        a = agg.setdefault((policy_id, code), {"offers": 0, "applied": 0, "declined": 0, "expired": 0, "open": 0})
        a["offers"] += n
        a[status if status in a else "open"] += n
    return [{"policy_id": p, "region_code": code, **v,
             "take_up_rate": round(v["applied"] / v["offers"], 4) if v["offers"] else None}
            for (p, code), v in sorted(agg.items())]
