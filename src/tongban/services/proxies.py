"""代办 and 一窗受理: who may file an application for someone else.

A resident authorises another resident (a family member) to apply for them, for everything, a
one-thing or an item, until a date, revocably; a guardian may file for their ward; a counter
officer (`counter.file`) files for a resident whose identity they checked, with the resident's
recorded consent. In every case the application's applicant is the person it is for and the
filer is kept beside it, in its timeline and in the audit chain.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from tongban.core import access, masking, paging
from tongban.core.audit.log import record
from tongban.core.errors import Conflict, Invalid, NotFound
from tongban.core.i18n import N_
from tongban.core.identity.models import Account
from tongban.core.timeutil import utcnow
from tongban.registry import reads
from tongban.registry.identifiers import validate_resident_id
from tongban.services import family, onething
from tongban.services.models import Application, Authorisation

if TYPE_CHECKING:
    from tongban.registry.models import Person

MAX_DAYS = 366
CONSENT_METHODS = ("signature", "verbal")


@dataclass(frozen=True)
class Filer:
    """For whom an application is filed, and how."""

    person: Person
    applicant_account_id: int | None
    kind: str  # self | proxy | guardian | counter
    consent: dict[str, Any] | None = None


def _account_of(session: Session, person: Person) -> int | None:
    return session.scalar(select(Account.id).where(Account.id_number == person.id_number, Account.kind == "resident"))


def _live(a: Authorisation, now: dt.datetime) -> bool:
    return a.revoked_at is None and a.valid_until > now


def _authorisation(session: Session, *, grantor_id: int, proxy_id: int, scopes: Sequence[str],
                   now: dt.datetime) -> Authorisation | None:
    rows = session.scalars(select(Authorisation).where(
        Authorisation.grantor_person_id == grantor_id, Authorisation.proxy_person_id == proxy_id,
        Authorisation.revoked_at.is_(None), Authorisation.valid_until > now,
        or_(Authorisation.scope == "all", Authorisation.scope.in_(list(scopes)))).order_by(Authorisation.id))
    return next(iter(rows), None)


def is_guardian(session: Session, *, guardian_id: int, ward_id: int, today: dt.date) -> bool:
    return reads.guardianship_in_force(session, guardian_id=guardian_id, ward_id=ward_id, today=today)


def filer_for(session: Session, *, principal: access.Principal, on_behalf_of: int | None,
              counter: Mapping[str, Any] | None, scopes: Sequence[str]) -> Filer:
    """Who the application is for: the caller, a grantor or ward of theirs, or (at a counter) the
    resident named by ID number. Refused (403) without a live authorisation or guardianship."""
    if counter is not None:
        return _counter_filer(session, principal=principal, counter=counter)
    me = family.applicant_person(session, principal.account_id)
    if on_behalf_of is None or on_behalf_of == me.id:
        return Filer(person=me, applicant_account_id=principal.account_id, kind="self")
    person = reads.person(session, on_behalf_of)
    now = utcnow()
    if person is not None and is_guardian(session, guardian_id=me.id, ward_id=person.id, today=now.date()):
        return Filer(person=person, applicant_account_id=_account_of(session, person), kind="guardian")
    if person is not None and _authorisation(session, grantor_id=person.id, proxy_id=me.id, scopes=scopes,
                                             now=now) is not None:
        return Filer(person=person, applicant_account_id=_account_of(session, person), kind="proxy")
    raise access.Denied(N_("You are not authorised to apply for this person"), principal=principal,
                        action="application.on_behalf_of", field="on_behalf_of")


def _counter_filer(session: Session, *, principal: access.Principal, counter: Mapping[str, Any]) -> Filer:
    number = counter.get("id_number")
    if not isinstance(number, str) or not number.strip():
        raise Invalid(N_("This field is required"), field="id_number")
    number = validate_resident_id(number.strip(), field="id_number").number
    consent = counter.get("consent")
    if not isinstance(consent, dict) or consent.get("method") not in CONSENT_METHODS:
        raise Invalid(N_("Record how the resident agreed: signature or verbal"), field="consent.method")
    note = consent.get("note")
    if note is not None and (not isinstance(note, str) or len(note) > 500):
        raise Invalid(N_("This value is too long"), field="consent.note")
    person = reads.person_by_id_number(session, number)
    if person is None:
        raise NotFound(N_("No resident has this ID number"), field="id_number")
    access.require_region(principal, person.region_code)
    return Filer(person=person, applicant_account_id=_account_of(session, person), kind="counter",
                 consent={"method": consent["method"], "note": (note or "").strip() or None,
                          "officer": principal.actor, "department": principal.department_id})


def check_still_authorised(session: Session, *, principal: access.Principal, app: Application,
                           scopes: Sequence[str]) -> None:
    """A proxy's or guardian's draft is submitted only while they may still file for the applicant."""
    me = family.applicant_person(session, principal.account_id)
    now = utcnow()
    pid = int(app.applicant_person_id or 0)
    ok = (is_guardian(session, guardian_id=me.id, ward_id=pid, today=now.date()) if app.filing == "guardian"
          else _authorisation(session, grantor_id=pid, proxy_id=me.id, scopes=scopes, now=now) is not None)
    if not ok:
        raise access.Denied(N_("You are not authorised to apply for this person"), principal=principal,
                            action="application.on_behalf_of", field="on_behalf_of")


def proxy_accounts(session: Session, app: Application) -> set[int]:
    """Accounts of the applicant's live proxies for this application (they may read it)."""
    if app.applicant_person_id is None:
        return set()
    scopes = [x for x in (app.onething_id, app.item_id) if x]
    now = utcnow()
    proxies = session.scalars(select(Authorisation.proxy_person_id).where(
        Authorisation.grantor_person_id == app.applicant_person_id, Authorisation.revoked_at.is_(None),
        Authorisation.valid_until > now, or_(Authorisation.scope == "all", Authorisation.scope.in_(scopes))))
    ids = set(proxies)
    if not ids:
        return set()
    return set(reads.resident_accounts(session, sorted(ids)).values())


# --- the grantor's authorisations -----------------------------------------------------------------


def authorise(session: Session, *, principal: access.Principal, proxy_id_number: str, scope: str = "all",
              days: int = 90) -> Authorisation:
    """授权代办: let the resident with `proxy_id_number` apply for the caller."""
    access.require(principal, "self.apply")
    me = family.applicant_person(session, principal.account_id)
    if not isinstance(proxy_id_number, str) or not proxy_id_number.strip():
        raise Invalid(N_("This field is required"), field="proxy_id_number")
    number = validate_resident_id(proxy_id_number.strip(), field="proxy_id_number").number
    proxy = reads.person_by_id_number(session, number)
    if proxy is None:
        raise NotFound(N_("No resident has this ID number"), field="proxy_id_number")
    if proxy.id == me.id:
        raise Invalid(N_("You cannot authorise yourself"), field="proxy_id_number")
    if scope != "all":
        try:
            onething.get_onething(session, scope)
        except NotFound:
            try:
                onething.get_item(session, scope)
            except NotFound:
                raise Invalid(N_("Authorise everything, a one-thing or an item"), field="scope") from None
    if not 1 <= days <= MAX_DAYS:
        raise Invalid(N_("An authorisation lasts between 1 day and a year"), field="days")
    now = utcnow()
    a = Authorisation(grantor_person_id=me.id, proxy_person_id=proxy.id, scope=scope,
                      valid_until=now + dt.timedelta(days=days), created_at=now)
    session.add(a)
    session.flush()
    record(session, actor=principal.actor, action="authorisation.give", subject=masking.subject("person", me.id),
           region_code=me.region_code, details={"authorisation": a.id, "scope": scope, "days": days,
                                                "proxy": masking.subject("person", proxy.id)})
    return a


def authorisations(session: Session, *, principal: access.Principal, limit: int = paging.DEFAULT_LIMIT,
                   cursor: str | None = None) -> tuple[list[tuple[Authorisation, str]], str | None]:
    """The caller's authorisations, given and received, newest first, one page:
    (authorisation, "given" | "received") each, and the next page's cursor."""
    access.require(principal, "self.read")
    me = family.applicant_person(session, principal.account_id)
    rows, next_cursor = paging.keyset(
        session, select(Authorisation).where(or_(Authorisation.grantor_person_id == me.id,
                                                 Authorisation.proxy_person_id == me.id)),
        Authorisation.id, limit=limit, cursor=cursor)
    return [(a, "given" if a.grantor_person_id == me.id else "received") for a in rows], next_cursor


def revoke(session: Session, *, principal: access.Principal, authorisation_id: int) -> Authorisation:
    """The grantor withdraws an authorisation, effective at once."""
    access.require(principal, "self.apply")
    me = family.applicant_person(session, principal.account_id)
    a = session.get(Authorisation, authorisation_id)
    if a is None or a.grantor_person_id != me.id:
        raise access.NotYours(N_("No such authorisation"), principal=principal, action="authorisation.revoke")
    if a.revoked_at is not None:
        raise Conflict(N_("This authorisation is already revoked"), field="status")
    a.revoked_at = utcnow()
    record(session, actor=principal.actor, action="authorisation.revoke", subject=masking.subject("person", me.id),
           region_code=me.region_code, details={"authorisation": a.id})
    return a


def authorisation_dict(session: Session, a: Authorisation, direction: str) -> dict[str, Any]:
    """What the grantor and the proxy see: the other party's masked name, the scope and validity."""
    other = reads.person_that_exists(session, a.proxy_person_id if direction == "given" else a.grantor_person_id)
    return {"id": a.id, "direction": direction, "person_id": other.id, "name": masking.name(other.name),
            "scope": a.scope, "valid_until": a.valid_until, "created_at": a.created_at,
            "revoked_at": a.revoked_at, "active": _live(a, utcnow())}
