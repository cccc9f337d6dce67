"""Who is who around an applicant in the registry: their household, spouse, and so the
newborn's mother and father. Used by prefill (with consent) and by the birth registration.
The registry is read through its published read functions (registry.reads)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from tongban.core.errors import NotFound
from tongban.core.i18n import N_
from tongban.registry import reads

if TYPE_CHECKING:
    from tongban.registry.models import Household, Person


def applicant_person(session: Session, account_id: int | None) -> Person:
    """The registry record linked to an account (by its resident ID number)."""
    person = reads.person_of_account(session, account_id) if account_id else None
    if person is None:
        raise NotFound(N_("No registry record is linked to your account"))
    return person


def household_of(session: Session, person: Person) -> Household | None:
    return reads.household_of(session, person)


def spouse_of(session: Session, person: Person) -> Person | None:
    """The spouse in the same household: the head's spouse, or the head of a spouse."""
    if person.household_id is None:
        return None
    members = reads.household_members(session, person.household_id)
    mine = next((m.relationship for m, p in members if p.id == person.id), None)
    if mine == "head":
        return next((p for m, p in members if m.relationship == "spouse"), None)
    if mine == "spouse":
        return next((p for m, p in members if m.relationship == "head"), None)
    return None


def parents(session: Session, applicant: Person) -> dict[str, Person | None]:
    """The newborn's mother and father as the applicant's registry sees them."""
    spouse = spouse_of(session, applicant)
    if applicant.sex == "F":
        return {"mother": applicant, "father": spouse}
    return {"mother": spouse, "father": applicant}
