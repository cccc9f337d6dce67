"""The registry's published read functions (registry.reads) answer as the queries the scenarios
ran on the registry's tables themselves did."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from tests.registry.factories import make_household, make_person, seed_people
from tongban.registry import reads
from tongban.registry.models import Address, Person


def test_family_reads(db) -> None:  # type: ignore[no-untyped-def]
    ids = seed_people(db)
    with db.unit_of_work() as s:
        mother = reads.person(s, ids["mother"])
        assert mother is not None and reads.person_by_id_number(s, ids["mother_idn"]) is mother
        household = reads.household_of(s, mother)
        assert household is not None
        members = {p.id: m.relationship for m, p in reads.household_members(s, household.id)}
        assert members == {ids["mother"]: "head", ids["father"]: "spouse", ids["baby"]: "child"}
        assert reads.guardianship_in_force(s, guardian_id=ids["mother"], ward_id=ids["baby"], today=dt.date.today())
        assert not reads.guardianship_in_force(s, guardian_id=ids["father"], ward_id=ids["baby"],
                                               today=dt.date.today())
        accounts = reads.resident_accounts(s, [ids["mother"], ids["father"], ids["stranger"]])
        assert set(accounts) == {ids["mother"], ids["stranger"]}  # the father has no account
        assert reads.person_of_account(s, accounts[ids["mother"]]) is mother


def test_persons_by_address_is_the_databases_street_order(db) -> None:  # type: ignore[no-untyped-def]
    seed_people(db)
    with db.unit_of_work() as s:
        hh = make_household(s, number="330203000002")
        for name, road, number in (("甲", "中山西路", "9"), ("乙", "解放南路", "12"), ("丙", "中山西路", "9"),
                                   ("丁", "中山西路", "10"), ("戊", None, "1")):
            make_person(s, name, road=road, number=number, household=hh, relationship="other",
                        id_number=None, birth=dt.date(1980, 1, 1 + len(name) + ord(name) % 20))
        ids = list(s.scalars(select(Person.id)))
        expected = s.execute(select(Person.id, Address.road, Address.number)
                             .outerjoin(Address, Address.id == Person.address_id).where(Person.id.in_(ids))
                             .order_by(Address.road, Address.number, Person.id)).all()
        got = reads.persons_by_address(s, select(Person.id).where(Person.id.in_(ids)))
        assert [p.id for _, p, _ in got] == [r[0] for r in expected]
        # one rank per (road, number): the two at 中山西路 9 share theirs, the next one follows
        ranks = {(a.road, a.number) if a else None: r for r, _, a in got}
        assert len(set(ranks.values())) == len(ranks) == len({(r[1], r[2]) if r[1] else None for r in expected})
        assert reads.persons_by_address(s, ids) == got  # a list of ids answers the same
