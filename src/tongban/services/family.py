"""Who is who around an applicant in the registry: their household, spouse, and so the
newborn's mother and father. Used by prefill (with consent) and by the birth registration."""

from __future__ import annotations

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from tongban.core.errors import NotFound
from tongban.core.i18n import N_
from tongban.core.identity.models import Account
from tongban.registry.models import Household, HouseholdMember, Person

# One query (not the account with its roles, then the person), built once: this is on every
# submission, and building a select with a join costs more than running it.
_PERSON_OF_ACCOUNT = (select(Person).join(Account, Account.id_number == Person.id_number)
                      .where(Account.id == bindparam("account_id")))


def applicant_person(session: Session, account_id: int | None) -> Person:
    """The registry record linked to an account (by its resident ID number)."""
    person = session.scalar(_PERSON_OF_ACCOUNT, {"account_id": account_id}) if account_id else None
    if person is None:
        raise NotFound(N_("No registry record is linked to your account"))
    return person


def household_of(session: Session, person: Person) -> Household | None:
    return session.get(Household, person.household_id) if person.household_id else None


def spouse_of(session: Session, person: Person) -> Person | None:
    """The spouse in the same household: the head's spouse, or the head of a spouse."""
    if person.household_id is None:
        return None
    members = session.execute(select(HouseholdMember, Person).join(Person, Person.id == HouseholdMember.person_id)
                              .where(HouseholdMember.household_id == person.household_id)).all()
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
