"""Staff reads of persons, served by the data hub: the registry's raw records released on the
caller's basis for `ds.person` (owner, grant, or the person's consent) by the one release
decision, region-scoped by `core.access`, and audited under a keyed pseudonym of the person.

Nothing else reads the registry tables for staff; `registry.service` holds the raw functions
this module calls (and never imports the hub).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from tongban.core import access, masking
from tongban.core.access import Denied, Principal
from tongban.core.audit.log import record
from tongban.core.errors import Invalid, NotFound
from tongban.core.i18n import N_
from tongban.datahub.exchange import basis_for
from tongban.datahub.release import Basis, release_record
from tongban.registry import service as registry
from tongban.registry.models import Household, Person

PERSON_DATASET = "ds.person"
# Lookup only (the 12345 operator recognising a caller): the masked search and one masked read
# of a person found, no record pages, no households, never clear text.
FIND = "person.find"
PERSON_FIELDS = registry.PERSON_FIELDS
MAX_RESULTS = 50


def _released(session: Session, basis: Basis, person: Person, *, clear: bool,
              fields: list[str] | None = None) -> dict[str, Any]:
    """A person as the caller may see them: the release decision for the `ds.person` dataset,
    restricted to `fields` when given (the rest come back as None)."""
    raw = registry.person_dict(session, person, masked=False)
    raw.pop("masked")
    wanted = {k: v for k, v in raw.items() if fields is None or k == "id" or k in fields}
    out, hidden = release_record(basis, wanted, purpose=clear)
    if "address" in out:
        # The address follows the name's treatment (it is as identifying as the name).
        name_shown = release_record(basis, {"name": person.name}, purpose=clear)[0]["name"]
        if name_shown != person.name:
            out["address"] = registry.address_text(session, person.address_id, masked=True)
            hidden = hidden or out["address"] != raw["address"]
    return {**dict.fromkeys(raw), **out, "masked": hidden}


def _check_fields(fields: Sequence[str] | None) -> list[str] | None:
    if fields is None:
        return None
    unknown = [f for f in fields if f not in PERSON_FIELDS]
    if unknown or not fields:
        raise Invalid(N_("Unknown field"), field="fields")
    return sorted(set(fields))


def read_person(
    session: Session, *, principal: Principal, person_id: int, purpose: str | None = None,
    fields: Sequence[str] | None = None, hukou_bound: bool = False,
) -> dict[str, Any]:
    """THE staff read of one person. In order:

    1. permission `person.read`;
    2. region: the person's residence in the caller's subtree (`hukou_bound` reads — hukou
       services — also allow staff of the person's hukou region); refusals are audited by
       `core.access` as `access.denied`;
    3. the purpose, when clear text is asked for (≥ 4 characters);
    4. the department's basis for `ds.person` — ownership of the dataset, a live grant, or the
       person's consent (`datahub.exchange.basis_for`); a purpose without a clear-text right is refused;
    5. one audit event `person.read` (subject = keyed pseudonym; purpose; details: unmasked,
       fields, basis) in the caller's transaction;
    6. the record as the release decision gives it (L3 masked unless a purpose was stated),
       limited to `fields` when given.
    """
    access.require(principal, "person.read")
    person = registry.get_person(session, person_id)
    if not (access.can_act_in_region(principal, person.region_code)
            or (hukou_bound and access.can_act_in_region(principal, person.hukou_region_code))):
        access.require_region(principal, person.region_code)
    purpose = registry.check_purpose(purpose)
    fields = _check_fields(fields)
    basis = basis_for(session, principal=principal, dataset_id=PERSON_DATASET, subject_id=person.id)
    if purpose is not None and not basis.any_clear:
        raise Denied(N_("Your department's grant does not allow this data in clear text"),
                     principal=principal, action=f"clear:{PERSON_DATASET}")
    record(session, actor=principal.actor, actor_department=principal.department_id, action="person.read",
           subject=masking.subject("person", person.id), region_code=person.region_code, purpose=purpose,
           details={"unmasked": purpose is not None, "fields": fields or "all", "basis": basis.name,
                    **({"hukou_bound": True} if hukou_bound else {})})
    return _released(session, basis, person, clear=purpose is not None, fields=fields)


def search_persons(
    session: Session, *, principal: Principal, id_number: str | None = None, name: str | None = None,
    birth_date: dt.date | None = None, region_code: str | None = None, road: str | None = None,
    number: str | None = None, phone: str | None = None, via: str | None = None,
) -> list[dict[str, Any]]:
    """Find people in the caller's region by ID number, by name and birth date, by phone or by
    address. `via` names the page or step that searched (e.g. the 12345 intake), for the audit.
    Always masked: `person.read` or the lookup-only `person.find` may search."""
    access.require_any(principal, "person.read", FIND)
    q, kinds = registry.person_search(id_number=id_number, name=name, birth_date=birth_date,
                                      region_code=region_code, road=road, number=number, phone=phone)
    q = q.where(access.scope(principal, region=Person.region_code))
    basis = basis_for(session, principal=principal, dataset_id=PERSON_DATASET, subject_id=None)
    people = list(session.scalars(q.order_by(Person.id).limit(MAX_RESULTS)))
    # Which kinds of criteria, never their values: the audit chain holds no ID numbers or names.
    record(session, actor=principal.actor, actor_department=principal.department_id, action="person.search",
           details={"criteria": kinds, "count": len(people), "basis": basis.name, **({"via": via} if via else {})})
    return [_released(session, basis, p, clear=False) for p in people]


def find_person(session: Session, *, principal: Principal, person_id: int, via: str) -> dict[str, Any]:
    """One person found by `search_persons`, confirmed for a lookup (`person.find` or
    `person.read`): the residence in the caller's region, the department's basis, one masked
    `person.read` audit event naming `via`. Never clear text."""
    access.require_any(principal, "person.read", FIND)
    person = registry.get_person(session, person_id)
    access.require_region(principal, person.region_code)
    basis = basis_for(session, principal=principal, dataset_id=PERSON_DATASET, subject_id=person.id)
    record(session, actor=principal.actor, actor_department=principal.department_id, action="person.read",
           subject=masking.subject("person", person.id), region_code=person.region_code,
           details={"unmasked": False, "fields": "all", "basis": basis.name, "via": via})
    return _released(session, basis, person, clear=False)


def read_household(
    session: Session, *, principal: Principal, person_id: int, purpose: str | None = None
) -> dict[str, Any]:
    """A person's household, through the same checks; each member's read is audited. Members
    living outside the caller's region are listed with their relationship only."""
    read_person(session, principal=principal, person_id=person_id, purpose=purpose)
    person = registry.get_person(session, person_id)
    if person.household_id is None:
        raise NotFound(N_("This person belongs to no registered household"))
    household = session.get_one(Household, person.household_id)
    members = []
    for m, p in registry.household_members(session, household.id):
        if p.id != person.id and not access.can_act_in_region(principal, p.region_code):
            # A member living outside the caller's region: listed (the household has them), nothing shown.
            members.append({"relationship": m.relationship,
                            **dict.fromkeys(registry.person_dict(session, p, masked=True)), "id": p.id, "masked": True})
            continue
        basis = basis_for(session, principal=principal, dataset_id=PERSON_DATASET, subject_id=p.id)
        if p.id != person.id:
            record(session, actor=principal.actor, actor_department=principal.department_id,
                   action="person.read", subject=masking.subject("person", p.id), region_code=p.region_code,
                   purpose=registry.check_purpose(purpose), details={"unmasked": purpose is not None, "via": "household",
                                                                     "basis": basis.name})
        members.append({"relationship": m.relationship, **_released(session, basis, p, clear=purpose is not None)})
    return registry.household_dict(session, household, members)
