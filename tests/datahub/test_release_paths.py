"""Property: for the same basis, every path hands out the same values — the exchange's query
(Polars form), its export (Polars form, Parquet), the staff read of a person and the record
form of the release decision — whatever grant, consents, sharing terms and fields; and the
aggregate suppression leaves no suppressed figure recoverable by subtraction."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select, update

from tests.datahub.test_exchange import hub  # noqa: F401
from tests.registry.factories import make_grant
from tongban.core.access import Denied, Principal
from tongban.core.timeutil import utcnow
from tongban.datahub import exchange, export, persons
from tongban.datahub.models import Consent, Dataset, Grant, SharingRequest
from tongban.datahub.release import release_record, suppress
from tongban.registry.models import Person

PURPOSE = "低保家庭经济状况核对"
FIELDS = ["id_number", "name", "sex", "birth_date", "phone", "region_code", "hukou_region_code", "household_id",
          "alive", "marital_status", "disability_type", "disability_grade", "employment_status"]
L3_L4 = ["id_number", "name", "phone", "disability_type", "disability_grade"]
OWNER, MCA = "dept.haishu.police", "dept.haishu.mca"


def _norm(v: Any) -> Any:
    """Compare values, not types: a date and its ISO text, an int and its text are the same value."""
    if v is None:
        return None
    if isinstance(v, bool):
        return str(v).lower()
    return v.isoformat() if isinstance(v, dt.date) else str(v)


def _client(department: str) -> Principal:
    return Principal(kind="client", client_id=f"prop-{department}", department_id=department,
                     permissions=frozenset({"exchange.read"}))


def _staff(department: str) -> Principal:
    return Principal(kind="staff", account_id=99, department_id=department, region_code="330203",
                     permissions=frozenset({"person.read"}))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(kind=st.sampled_from(["owner", "grant", "consent-only"]),
       granted=st.sets(st.sampled_from(FIELDS), min_size=1),
       clear=st.sets(st.sampled_from(L3_L4)),
       consents=st.sets(st.sampled_from(["a", "b"])),
       asked=st.lists(st.sampled_from(FIELDS), min_size=1, max_size=6, unique=True),
       unshared=st.booleans())
def test_every_path_releases_the_same_values_for_the_same_basis(  # type: ignore[no-untyped-def]
        hub, db, tmp_path_factory, kind, granted, clear, consents, asked, unshared):  # noqa: F811
    department = OWNER if kind == "owner" else MCA
    fields = ["id", *asked]
    out_dir: Path = tmp_path_factory.mktemp("exports")
    with db.unit_of_work() as s:
        s.execute(delete(Consent))
        s.execute(delete(Grant))
        s.execute(delete(SharingRequest))
        s.execute(update(Dataset).where(Dataset.id == "ds.person").values(
            sharing_type="none" if unshared else "conditional", updated_at=utcnow()))
        if kind == "grant":
            make_grant(s, MCA, fields=["id", *sorted(granted)], clear=sorted(clear & granted))
        now = utcnow()
        for who in consents:
            s.add(Consent(person_id=hub[who], grantee_department_id=MCA, dataset_id="ds.person", purpose="申请低保",
                          valid_from=now - dt.timedelta(minutes=1), valid_to=now + dt.timedelta(days=1)))
        s.flush()
        raw = {p.id: {f: getattr(p, f) for f in fields} for p in s.scalars(select(Person))}

        def via_query() -> dict[int, dict[str, Any]] | None:
            exchange.rate_limit._buckets.clear()
            flt = {"id": hub["a"]} if kind == "consent-only" else None
            try:
                rows = exchange.query(s, principal=_client(department), dataset_id="ds.person", fields=fields,
                                      purpose=PURPOSE, filter=flt).rows
            except Denied:
                return None
            return {r["id"]: {k: _norm(v) for k, v in r.items()} for r in rows}

        def via_export() -> dict[int, dict[str, Any]] | None:
            try:
                done = export.export(s, principal=_client(department), dataset_id="ds.person", fields=fields,
                                     purpose=PURPOSE, out_dir=out_dir)
            except Denied:
                return None
            return {r["id"]: {k: _norm(v) for k, v in r.items()} for r in pl.read_parquet(done.export.path).to_dicts()}

        def expected(person_id: int) -> dict[str, Any] | None:
            try:
                basis = exchange.basis_for(s, principal=_client(department), dataset_id="ds.person",
                                           subject_id=person_id)
            except Denied:
                return None
            if basis.kind == "grant" and not set(fields) <= basis.grant_fields:
                return None  # the exchange refuses a field the grant does not cover
            values, _ = release_record(basis, raw[person_id], purpose=True)
            return {k: _norm(v) for k, v in values.items()}

        queried, exported = via_query(), via_export()
        want = {pid: expected(pid) for pid in raw}
        try:  # a bulk read stands on the department's own basis; consent opens one subject's rows only
            level = exchange.dataset_basis(s, principal=_client(department), ds=s.get_one(Dataset, "ds.person"))
        except Denied:
            level = None
        bulk = level is not None and (level.kind != "grant" or set(fields) <= level.grant_fields)
        if kind == "consent-only":
            assert exported is None  # an export needs ownership or a grant
            assert queried == ({hub["a"]: want[hub["a"]]} if want[hub["a"]] is not None else None)
        else:
            assert queried == exported
            assert queried == (want if bulk else None)
            if unshared:
                assert (queried is None) == (kind != "owner")
        # The staff read of a person, for a stated purpose, through the data hub.
        person_fields = [f for f in asked if f in persons.PERSON_FIELDS]
        if person_fields and want[hub["a"]] is not None:
            try:
                read = persons.read_person(s, principal=_staff(department), person_id=hub["a"], purpose=PURPOSE,
                                           fields=person_fields)
            except Denied:
                read = None  # no clear-text right at all: a purpose is refused
            if read is not None:
                assert {f: _norm(read[f]) for f in person_fields} == {f: want[hub["a"]][f] for f in person_fields}
        s.rollback()


def _tree(draw: Any) -> dict[str, int]:
    """Counts for a county, its streets and their communities (each parent the sum of its children)."""
    counts: dict[str, int] = {}
    county = 0
    for street in range(1, draw(st.integers(1, 4)) + 1):
        code = f"330203{street:03d}"
        street_total = 0
        for community in range(1, draw(st.integers(1, 4)) + 1):
            n = draw(st.integers(0, 30))
            counts[f"{code}{community:03d}"] = n
            street_total += n
        counts[code] = street_total
        county += street_total
    counts["330203"] = county
    return counts


@settings(max_examples=200, deadline=None)
@given(data=st.data(), threshold=st.integers(2, 12))
def test_small_counts_are_suppressed_and_cannot_be_recovered_by_subtraction(data, threshold) -> None:  # type: ignore[no-untyped-def]
    counts = _tree(data.draw)
    shown = suppress(counts, threshold=threshold)
    for code, n in counts.items():
        if 0 < n < threshold:
            assert shown[code] is None  # primary
        if shown[code] is not None:
            assert shown[code] == n
    # Every equation parent = Σ children holds no unknown or at least two.
    for parent in counts:
        kids = [c for c in counts if c != parent and c.startswith(parent) and
                len(c) == (9 if len(parent) == 6 else 12)]
        if kids:
            unknown = sum(1 for c in [parent, *kids] if shown[c] is None)
            assert unknown != 1, (parent, counts, shown)


def test_suppression_example_and_threshold_check() -> None:
    counts = {"330203": 40, "330203001": 25, "330203002": 15, "330203001001": 3, "330203001002": 22,
              "330203002001": 15}
    shown = suppress(counts, threshold=5)
    assert shown["330203001001"] is None and shown["330203001002"] is None  # 3 primary, 22 complementary
    assert shown["330203"] == 40 and shown["330203002"] == 15
    with pytest.raises(ValueError):
        suppress(counts, threshold=0)


def test_the_suppression_threshold_is_a_pack_setting(db, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import shutil

    from tests.registry.factories import PACK
    from tongban.core.packs.loader import load_pack
    from tongban.datahub.release import DEFAULT_MIN_COUNT, min_count

    with db.unit_of_work() as s:
        load_pack(s, PACK)
        assert min_count(s, "ds.person") == DEFAULT_MIN_COUNT  # the demo pack keeps the default
    pack = tmp_path / "pack"
    shutil.copytree(PACK, pack)
    text = (pack / "datasets.yaml").read_text(encoding="utf-8")
    (pack / "datasets.yaml").write_text(text.replace("\ndatasets:\n", "\naggregates: {min_count: 5}\ndatasets:\n", 1),
                                        encoding="utf-8")
    manifest = (pack / "pack.yaml").read_text(encoding="utf-8")
    (pack / "pack.yaml").write_text(manifest.replace('version: "1.0.0"', 'version: "1.0.1"'), encoding="utf-8")
    with db.unit_of_work() as s:
        load_pack(s, pack)
        assert min_count(s, "ds.person") == 5
