"""Prefill of a one-thing's form from the registries, with the applicant's consent.

The consent is the data hub's `Consent`, scoped to the one-thing (一键授权) and bound to the one
application it is then used for. With a live one, each element's declared source (`prefill:
{dataset, field, of}`) is read through the exchange (`read_on_consent`) from the applicant's own
record, their spouse's or their household's: one audit event per record read (purpose
"prefill") and an entry in the applicant's "who used my data". Without a consent nothing is read
and nothing is recorded. (The old `svc_prefill_consent` table was dropped by migration 0017.)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from tongban.core import access, masking
from tongban.core.audit.log import record
from tongban.core.errors import NotFound
from tongban.core.i18n import N_
from tongban.core.timeutil import utcnow
from tongban.datahub import consent as consents
from tongban.datahub.exchange import read_on_consent
from tongban.services import family
from tongban.services.models import DataElement, OneThing, ServiceItem

if TYPE_CHECKING:  # the record type only: the hub's consent functions make and find it
    from tongban.datahub.models import Consent

READABLE = {"ds.person": ("person", {"name", "id_number", "phone", "sex", "birth_date"}),
            "ds.household": ("household", {"household_number"})}
PURPOSE = "prefill"
VALID_DAYS = 30  # long enough to finish the form; it covers one application only


def give_consent(session: Session, *, principal: access.Principal, onething: OneThing | ServiceItem) -> Consent:
    """一键授权: the applicant lets this one-thing's (or single item's) form be filled from their
    records. Asked again while an earlier consent for it is live and unused, that one is the
    answer: reopening a form does not pile up consents."""
    access.require(principal, "self.apply")
    person = family.applicant_person(session, principal.account_id)
    now = utcnow()
    live = consents.live_scoped(session, person_id=person.id, scope=onething.id, at=now)
    if live is not None:
        return live
    consent = consents.give_scoped(session, person_id=person.id, scope=onething.id,
                                   purpose=f"{PURPOSE} {onething.id}", valid_from=now,
                                   valid_to=now + dt.timedelta(days=VALID_DAYS))
    record(session, actor=principal.actor, action="consent.give", subject=masking.subject("person", person.id),
           purpose=PURPOSE, region_code=person.region_code,
           details={"consent": consent.id, "scope": onething.id, "days": VALID_DAYS})
    return consent


def live_consent(session: Session, *, principal: access.Principal, consent_id: int, onething_id: str) -> Consent:
    """The caller's own live consent for this one-thing (404 naming `consent_id` otherwise)."""
    consent = consents.by_id(session, consent_id)
    person = family.applicant_person(session, principal.account_id) if consent is not None else None
    now = utcnow()
    if consent is None or person is None or consent.person_id != person.id:
        # Another's consent or none: the same 404 as one not in force, and audited (issue #18 item 6).
        raise access.NotYours(N_("No such consent"), principal=principal, action="consent.use", field="consent_id")
    if consent.scope != onething_id or consent.withdrawn_at is not None or not consent.valid_from <= now < consent.valid_to:
        raise NotFound(N_("No such consent"), field="consent_id")
    return consent


def prefill(session: Session, *, principal: access.Principal, consent: Consent | None,
            elements: Mapping[str, DataElement]) -> dict[str, dict[str, Any]]:
    """`{element: {"value", "source"}}` for the elements with a registry source; empty without consent."""
    if consent is None:
        return {}
    wanted: dict[tuple[str, str], list[tuple[str, str]]] = {}  # (dataset, whose) -> [(element, field)]
    for el in elements.values():
        src = el.definition.get("prefill")
        if src and src["dataset"] in READABLE and src["field"] in READABLE[src["dataset"]][1]:
            wanted.setdefault((src["dataset"], src["of"]), []).append((el.id, src["field"]))
    if not wanted:
        return {}
    applicant = family.applicant_person(session, principal.account_id)
    parents = family.parents(session, applicant)
    household = family.household_of(session, applicant)
    out: dict[str, dict[str, Any]] = {}
    for (dataset, whose), fields in sorted(wanted.items()):
        row: Any = household if whose == "household" else applicant if whose == "applicant" else parents[whose]
        if row is None:
            continue
        # A household record is about the applicant's household: it is indexed under the applicant.
        subject = applicant.id if whose == "household" else row.id
        values = read_on_consent(session, principal=principal, consent=consent, dataset_id=dataset,
                                 record_id=row.id, fields=sorted({f for _, f in fields}), subject_person_id=subject,
                                 purpose=PURPOSE, action="prefill.read",
                                 details={"of": whose, "onething": consent.scope})
        for element_id, field in fields:
            value = values.get(field)
            if value is not None:
                out[element_id] = {"value": value, "source": f"{dataset}.{field}", "of": whose}
    return out
