"""The synthetic city: same seed same city, a plausible population, and it loads with keys intact."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from sqlalchemy import func, select, text

from tests.factories import seed_base
from tongban.core.errors import Conflict, Invalid
from tongban.registry import divisions, generator, loader
from tongban.registry.generator import CityConfig, generate_chunk
from tongban.registry.models import (
    Address,
    AssetRecord,
    BenefitEnrolment,
    Guardianship,
    Household,
    HouseholdMember,
    IncomeRecord,
    LegalEntity,
    MedicalSettlement,
    Person,
)

AS_OF = dt.date(2025, 6, 30)
COMMUNITIES = ("330203001001",)  # the one community of tests/factories.py seed_base


def config(persons: int = 6_000, seed: int = 5, chunk_size: int = 2_500) -> CityConfig:
    return CityConfig(persons=persons, seed=seed, communities=COMMUNITIES, as_of=AS_OF, chunk_size=chunk_size)


@lru_cache(maxsize=1)
def city() -> dict[str, pl.DataFrame]:
    cfg = CityConfig(persons=40_000, seed=3, communities=("330203001001", "330205001001"), as_of=AS_OF,
                     chunk_size=20_000)
    chunks = list(generator.generate(cfg))
    return {t: pl.concat([c[t] for c in chunks]) for t in generator.TABLES}


def test_same_seed_same_city_and_another_seed_another() -> None:
    a, b = generate_chunk(config(), 1), generate_chunk(config(), 1)
    for table in generator.TABLES:
        assert_frame_equal(a[table], b[table])
    other = generate_chunk(config(seed=6), 1)
    assert a["person"]["id_number"].to_list() != other["person"]["id_number"].to_list()


def test_written_parquet_is_the_same_city_and_reads_back(tmp_path: Path) -> None:
    cfg = config(persons=3_000, chunk_size=1_000)
    first = generator.write_parquet(cfg, tmp_path / "a")
    generator.write_parquet(cfg, tmp_path / "b", workers=2)
    assert first.counts["person"] == 3_000 and first.bytes > 0
    for table in generator.TABLES:
        a = pl.read_parquet(tmp_path / "a" / table / "*.parquet")
        b = pl.read_parquet(tmp_path / "b" / table / "*.parquet")
        assert_frame_equal(a, b)
    back = list(generator.read_parquet(tmp_path / "a"))
    assert len(back) == 3 and sum(c["person"].height for c in back) == 3_000


def test_exactly_the_requested_persons_with_unique_ids_across_chunks() -> None:
    c = city()
    person = c["person"]
    assert person.height == 40_000
    for table, col in (("person", "id"), ("person", "id_number"), ("household", "id"), ("address", "id"),
                       ("legal_entity", "uscc"), ("income_record", "id"), ("household", "household_number")):
        assert c[table][col].n_unique() == c[table].height, (table, col)


def test_id_numbers_agree_with_the_person_and_their_area_was_in_force_in_the_birth_year() -> None:
    person = city()["person"]
    assert (person["id_number"].str.slice(6, 8) == person["birth_date"].dt.strftime("%Y%m%d")).all()
    male_seq = person["id_number"].str.slice(16, 1).cast(pl.Int32) % 2 == 1
    assert (male_seq == (person["sex"] == "M")).all()
    national = divisions.national()
    for number, born in zip(person["id_number"].to_list()[:5000], person["birth_date"].to_list()[:5000],
                            strict=True):
        assert national[number[:6]].in_force(born.year)
    born_local = person["id_number"].str.slice(0, 2) == "33"
    assert 0.6 < born_local.mean() < 0.95  # type: ignore[operator]


def test_keys_hold_within_the_city() -> None:
    c = city()
    persons = set(c["person"]["id"].to_list())
    households = set(c["household"]["id"].to_list())
    addresses = set(c["address"]["id"].to_list())
    assert set(c["person"]["household_id"].to_list()) <= households
    assert set(c["person"]["address_id"].to_list()) <= addresses
    assert set(c["household"]["head_person_id"].to_list()) <= persons
    assert set(c["household_member"]["person_id"].to_list()) == persons
    assert set(c["guardianship"]["ward_person_id"].to_list()) <= persons
    assert set(c["legal_entity"]["legal_rep_person_id"].drop_nulls().to_list()) <= persons
    assert set(c["income_record"]["person_id"].to_list()) <= persons
    heads = c["household_member"].filter(pl.col("relationship") == "head")
    assert heads.height == c["household"].height


def test_the_city_has_what_the_policies_read() -> None:
    """Job losses in the last six months, adults' own assets, medical-insurance settlements."""
    c = city()
    persons = c["person"]
    months = generator.months(AS_OF)
    employees = persons.filter(pl.col("employment_status").is_in(["employed", "unemployed"]))
    wages = c["income_record"].filter(pl.col("source") == "wage")
    earlier = set(wages.filter(pl.col("month").is_in(months[:6]))["person_id"].to_list())
    lately = set(wages.filter(pl.col("month") == months[-1])["person_id"].to_list())
    unemployed = set(persons.filter(pl.col("employment_status") == "unemployed")["id"].to_list())
    lost = (earlier - lately) & unemployed  # paid before, no wage last month, unemployed now
    assert 0.015 < len(lost) / employees.height < 0.05
    # a job lost in month m of the last six: wages up to m, none from it on
    for pid in sorted(lost)[:50]:
        paid = sorted(wages.filter(pl.col("person_id") == pid)["month"].to_list())
        assert paid == months[:len(paid)] and 6 <= len(paid) < 12

    owned = c["asset_record"].filter(pl.col("owner_kind") == "person")
    assert set(owned["kind"].unique().to_list()) == {"deposit", "securities"}
    assert set(owned["owner_id"].to_list()) <= set(persons.filter(pl.col("alive"))["id"].to_list())
    adults = persons.filter(pl.col("alive") & (pl.col("birth_date") <= dt.date(AS_OF.year - 18, AS_OF.month, AS_OF.day)))
    assert 0.5 < owned.filter(pl.col("kind") == "deposit").height / adults.height < 0.7
    assert c["asset_record"]["id"].is_unique().all()

    settled = c["medical_settlement"]
    assert settled["id"].is_unique().all() and set(settled["person_id"].to_list()) <= set(persons["id"].to_list())
    assert (settled["total_fen"] == settled["fund_paid_fen"] + settled["out_of_pocket_fen"]).all()
    assert (settled["out_of_pocket_fen"] > 0).all() and (settled["fund_paid_fen"] > 0).all()
    assert settled["settled_on"].min() > dt.date(AS_OF.year - 1, AS_OF.month, AS_OF.day)  # type: ignore[operator]
    assert settled["settled_on"].max() < AS_OF  # type: ignore[operator]
    assert settled.filter(pl.col("total_fen") > 2_000_000).height > 0  # a few large (inpatient) bills
    per_person = settled.height / persons.height
    assert 0.5 < per_person < 1.5


def test_the_views_of_a_generated_city_are_the_registrys(db) -> None:  # type: ignore[no-untyped-def]
    """`policy.views.views_of_tables` over a generated chunk gives the views `registry_snapshot`
    reads from the same city loaded into the registry (the screen bench's city is the registry's)."""
    from tongban.policy.views import registry_snapshot, views_of_tables

    with db.unit_of_work() as s:
        seed_base(s)
    cfg = config(persons=2_000, chunk_size=2_000)
    frames = generate_chunk(cfg, 0)
    loader.load(db, [frames])
    views = views_of_tables(frames, as_of=AS_OF)
    with db.unit_of_work() as s:
        snap = registry_snapshot(s, as_of=AS_OF)
        loaded = {"person": snap.person.collect(), "household": snap.household.collect()}
        assert snap.previous is not None
        loaded["previous"] = snap.previous.collect()
    for name, frame in views.items():
        mine = frame.drop("head_person_id", strict=False).sort("id")
        assert_frame_equal(mine, loaded[name].sort("id"), check_dtypes=False)
    assert (views["person"]["medical_out_of_pocket"] > 0).sum() > 0 and (views["person"]["assets"] > 0).sum() > 0
    assert (views["person"]["income_monthly"] * 2 < views["previous"]["income_monthly"]).sum() > 0  # job losses


def test_the_population_looks_like_a_chinese_city() -> None:
    c = city()
    person = c["person"]
    age = AS_OF.year - person["birth_date"].dt.year()
    assert 0.10 < (age < 15).mean() < 0.22  # type: ignore[operator]
    assert 0.15 < (age >= 60).mean() < 0.30  # type: ignore[operator]
    assert 0.04 < person["disability_type"].is_not_null().mean() < 0.08
    assert person["disability_grade"].drop_nulls().is_between(1, 4).all()
    assert 0 < (~person["alive"]).mean() < 0.02
    assert person.filter(~pl.col("alive"))["death_date"].is_not_null().all()
    surnames = person["name"].str.slice(0, 1).value_counts(sort=True)["name"].head(3).to_list()
    assert set(surnames) <= {"王", "李", "张", "刘"}
    bd = person["birth_date"]
    exact = age - ((bd.dt.month().cast(pl.Int32) * 100 + bd.dt.day()) > AS_OF.month * 100 + AS_OF.day).cast(pl.Int32)
    assert person.filter(exact.is_between(6, 11))["student_status"].eq("primary").all()
    assert set(person["employment_status"].unique()) == {"employed", "unemployed", "retired", "none"}

    rel = c["household_member"].join(person.select("id", "birth_date"), left_on="person_id", right_on="id")
    kinds = rel.group_by("household_id").agg(pl.col("relationship"), pl.len().alias("n"))
    three_gen = kinds.filter(pl.col("relationship").list.contains("parent")
                             & pl.col("relationship").list.contains("child"))
    assert three_gen.height > 0
    alone = kinds.filter(pl.col("n") == 1).join(rel, on="household_id")
    elderly_alone = alone.filter(AS_OF.year - pl.col("birth_date").dt.year() >= 60)
    assert elderly_alone.height > 0
    single_parent = kinds.filter(pl.col("relationship").list.contains("child")
                                 & ~pl.col("relationship").list.contains("spouse"))
    assert single_parent.height > 0

    income = c["income_record"]
    assert set(income["source"].unique()) == {"wage", "business", "pension"}
    assert income["month"].n_unique() == 12 and (income["amount_fen"] > 0).all()
    wage = income.filter(pl.col("source") == "wage")["amount_fen"]
    assert wage.mean() > wage.median()  # type: ignore[operator]  # skewed to the right
    benefits = c["benefit_enrolment"]
    assert benefits.filter(pl.col("benefit_code") == "assistance.dibao").height > 0
    assert c["legal_entity"]["legal_rep_person_id"].is_not_null().all()


def test_bad_configs_are_refused() -> None:
    with pytest.raises(ValueError, match="persons"):
        CityConfig(persons=0, seed=1, communities=COMMUNITIES, as_of=AS_OF)
    with pytest.raises(ValueError, match="no communities"):
        CityConfig(persons=10, seed=1, communities=(), as_of=AS_OF)
    with pytest.raises(ValueError, match="12 digits"):
        CityConfig(persons=10, seed=1, communities=("330203",), as_of=AS_OF)
    with pytest.raises(Invalid):
        CityConfig(persons=10, seed=1, communities=("999999001001",), as_of=AS_OF)


# --- loading into the database ----------------------------------------------------------


def _count(db, model) -> int:  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        return int(s.scalar(select(func.count()).select_from(model)))


def test_generated_city_loads_with_foreign_keys_intact(db) -> None:  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        seed_base(s)
        s.add(Household(id=1, household_number="pre-existing", region_code="330203001001"))
        s.flush()
        s.add(Person(id=1, id_number="330203198503120029", name="甲", sex="F", birth_date=dt.date(1985, 3, 12),
                     hukou_region_code="330203001001", region_code="330203001001", household_id=1))
    cfg = config()
    stats = loader.load(db, generator.generate(cfg))
    assert stats.persons == 6_000 and stats.chunks == 3
    assert _count(db, Person) == 6_001
    assert _count(db, HouseholdMember) == 6_000
    for model in (Address, Household, LegalEntity, IncomeRecord, Guardianship, BenefitEnrolment, MedicalSettlement,
                  AssetRecord):
        assert _count(db, model) > 0
    with db.engine.connect() as conn:
        if db.is_sqlite:
            assert conn.execute(text("PRAGMA foreign_key_check")).fetchall() == []
        orphans = conn.execute(text(
            "SELECT count(*) FROM person p LEFT JOIN household h ON h.id = p.household_id "
            "WHERE p.household_id IS NOT NULL AND h.id IS NULL")).scalar_one()
        assert orphans == 0
        heads = conn.execute(text(
            "SELECT count(*) FROM household h JOIN person p ON p.id = h.head_person_id")).scalar_one()
        assert heads == _count(db, Household) - 1  # all but the pre-existing one
        subjects = conn.execute(text(
            "SELECT count(*) FROM benefit_enrolment b LEFT JOIN household h ON h.id = b.subject_id "
            "WHERE b.subject_kind = 'household' AND h.id IS NULL")).scalar_one()
        assert subjects == 0
    with db.unit_of_work() as s:  # read back through the ORM: types survive the bulk path
        p = s.scalars(select(Person).where(Person.id > 1).limit(1)).one()
        assert isinstance(p.birth_date, dt.date) and p.updated_at.tzinfo is not None
        assert isinstance(p.alive, bool)
        s.add(Person(id_number="330203198503120045", name="乙", sex="F", birth_date=dt.date(1985, 3, 12),
                     hukou_region_code="330203001001", region_code="330203001001"))
        s.flush()  # the id sequence continues after the loaded rows


def test_loading_the_same_city_twice_is_refused_and_writes_nothing(db) -> None:  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        seed_base(s)
    cfg = config(persons=1_500, chunk_size=1_000)
    loader.load(db, generator.generate(cfg))
    rows = _count(db, IncomeRecord)
    with pytest.raises(Conflict):
        loader.load(db, generator.generate(cfg))
    assert _count(db, Person) == 1_500 and _count(db, IncomeRecord) == rows


def test_loading_into_a_region_tree_without_the_communities_writes_nothing(db) -> None:  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        seed_base(s)
    cfg = CityConfig(persons=500, seed=1, communities=("330205001001",), as_of=AS_OF)
    with pytest.raises(Invalid, match="not in the region table"):
        loader.load(db, generator.generate(cfg))
    assert _count(db, Person) == 0 and _count(db, Address) == 0


# --- the command ------------------------------------------------------------------------


def test_generate_command_writes_parquet_and_the_same_seed_gives_the_same_files(cli, db, tmp_path) -> None:  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        seed_base(s)
    for name in ("a", "b"):
        result = cli("demo", "generate", "--persons", "2000", "--seed", "9", "--as-of", "2025-06-30",
                     "--out", str(tmp_path / name), "--workers", "1")
        assert result.exit_code == 0, result.output
        assert "2,000 persons" in result.output
    a = pl.read_parquet(tmp_path / "a" / "person" / "*.parquet")
    b = pl.read_parquet(tmp_path / "b" / "person" / "*.parquet")
    assert_frame_equal(a, b)
    again = cli("demo", "generate", "--persons", "2000", "--out", str(tmp_path / "a"))
    assert again.exit_code == 2 and "--force" in again.output


def test_generate_into_db_loads_the_city(cli, db) -> None:  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        seed_base(s)
    result = cli("demo", "generate", "--persons", "1200", "--seed", "2", "--into-db")
    assert result.exit_code == 0, result.output
    assert _count(db, Person) == 1_200
    with db.unit_of_work() as s:  # enrolled in the benefits of the pack's policies (TONGBAN_PACK_DIR)
        codes = set(s.scalars(select(BenefitEnrolment.benefit_code)))
    assert codes and codes <= {"assistance.dibao", "disability.care"}


@pytest.mark.parametrize("args", [
    ("--persons", "100"),  # neither --out nor --into-db
    ("--persons", "100", "--into-db", "--out", "x"),
    ("--persons", "0", "--into-db"),
    ("--persons", "100", "--into-db", "--as-of", "2025-13-01"),
])
def test_generate_bad_arguments_exit_2_and_write_nothing(cli, db, args) -> None:  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        seed_base(s)
    result = cli("demo", "generate", *args)
    assert result.exit_code == 2, result.output
    assert _count(db, Person) == 0


def test_generate_without_communities_fails_clearly(cli, db) -> None:  # type: ignore[no-untyped-def]
    result = cli("demo", "generate", "--persons", "100", "--into-db")
    assert result.exit_code == 2
    assert "no communities" in result.output and "pack load" in result.output
    assert _count(db, Person) == 0


@pytest.mark.parametrize("persons", [1, 7, 49, 333])
def test_tiny_cities_have_exactly_the_persons_asked_for(persons: int) -> None:
    frames = generate_chunk(config(persons=persons), 0)
    assert frames["person"].height == persons == frames["household_member"].height
    assert set(frames["household"]["head_person_id"].to_list()) <= set(frames["person"]["id"].to_list())


DEMO_PACK = Path(__file__).resolve().parents[2] / "packs" / "demo"


def test_a_packs_communities_are_read_through_the_pack_loader(db, settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The communities the generator reads from a pack are those loading it puts in the region
    table; a pack in error is refused with the loader's problems, not read around."""
    from tongban.core.packs.loader import PackError
    from tongban.demo import load_demo

    with db.unit_of_work() as s:
        load_demo(s, settings)
    codes = generator.pack_communities(DEMO_PACK)
    assert codes and codes == tuple(sorted(loader.community_codes(db)))
    broken = tmp_path / "pack"
    broken.mkdir()
    (broken / "pack.yaml").write_text((DEMO_PACK / "pack.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    (broken / "regions.yaml").write_text('regions:\n  - {code: "33020300100", level: community, parent: "330203001",'
                                         ' name: {zh: 坏, en: Bad}}\n', encoding="utf-8")
    with pytest.raises(PackError):
        generator.pack_communities(broken)


def test_the_generator_imports_nothing_above_the_registry() -> None:
    """Not even inside a function: the registry sits below policy, screening and the demo."""
    import ast

    tree = ast.parse(Path(generator.__file__).read_text(encoding="utf-8"))
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    imported |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    above = {m for m in imported if m.startswith("tongban.")
             and not m.startswith(("tongban.registry", "tongban.core"))}
    assert above == set()
