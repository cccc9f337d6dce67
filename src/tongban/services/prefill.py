"""Prefill of a one-thing's form from the registries, with the applicant's consent.

The one place where a form reads registry data: with a live consent for this one-thing, each
element's declared source (`prefill: {dataset, field, of}`) is read from the applicant's own
record, their spouse's or their household's, one audit event per record read (purpose
"prefill"). Without a consent nothing is read and nothing is recorded. When the data hub's
exchange serves residents' own reads, only `_read_record` changes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from tongban.core import access, masking
from tongban.core.audit.log import record
from tongban.core.errors import NotFound
from tongban.core.i18n import N_
from tongban.core.timeutil import utcnow
from tongban.services import family
from tongban.services.models import DataElement, OneThing, PrefillConsent

READABLE = {"ds.person": ("person", {"name", "id_number", "phone", "sex", "birth_date"}),
            "ds.household": ("household", {"household_number"})}


def give_consent(session: Session, *, principal: access.Principal, onething: OneThing) -> PrefillConsent:
    """一键授权: the applicant lets this one-thing's form be filled from their records."""
    access.require(principal, "self.apply")
    consent = PrefillConsent(account_id=principal.account_id, onething_id=onething.id, created_at=utcnow())
    session.add(consent)
    session.flush()
    record(session, actor=principal.actor, action="prefill.consent", subject=f"prefill_consent:{consent.id}",
           purpose="prefill", details={"onething": onething.id})
    return consent


def live_consent(session: Session, *, principal: access.Principal, consent_id: int,
                 onething_id: str) -> PrefillConsent:
    consent = session.get(PrefillConsent, consent_id)
    if (consent is None or consent.account_id != principal.account_id or consent.onething_id != onething_id
            or consent.withdrawn_at is not None):
        raise NotFound(N_("No such consent"), field="consent_id")
    return consent


def prefill(session: Session, *, principal: access.Principal, consent: PrefillConsent | None,
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
        values = _read_record(session, principal=principal, consent=consent, dataset=dataset, whose=whose,
                              row=row, fields=[f for _, f in fields])
        for element_id, field in fields:
            value = values.get(field)
            if value is not None:
                out[element_id] = {"value": value, "source": f"{dataset}.{field}", "of": whose}
    return out


def _read_record(session: Session, *, principal: access.Principal, consent: PrefillConsent, dataset: str,
                 whose: str, row: Any, fields: list[str]) -> dict[str, Any]:
    """Read `fields` of one registry record for prefill, and say so in the audit chain."""
    kind = READABLE[dataset][0]
    record(session, actor=principal.actor, action="prefill.read", subject=masking.subject(kind, row.id),
           purpose="prefill", region_code=getattr(row, "region_code", None),
           details={"dataset": dataset, "fields": sorted(set(fields)), "of": whose, "consent": consent.id,
                    "onething": consent.onething_id})
    values: dict[str, Any] = {}
    for f in fields:
        v = getattr(row, f)
        values[f] = v.isoformat() if hasattr(v, "isoformat") else v
    return values
