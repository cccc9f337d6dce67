"""A small city for screening: the demo pack and cast, plus households with known cases around
a 低保 line of 1,118 yuan in 海曙区 (a test policy folder, so the thresholds are the test's own)."""

from __future__ import annotations

import copy
import datetime as dt
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from tongban.core import masking
from tongban.core.identity import service as identity
from tongban.core.timeutil import today_local
from tongban.demo import load_demo
from tongban.registry.identifiers import ric_check_char
from tongban.registry.models import (
    Address,
    BenefitEnrolment,
    Household,
    HouseholdMember,
    IncomeRecord,
    Person,
)
from tongban.screening.engine import PolicyEngine, set_engine
from tongban.services.models import OneThing, ServiceItem

COMMUNITY = "330203001001"  # 紫金巷社区, 南门街道, 海曙区
PASSWORD = "password-123"

POLICIES = """
parameters:
  - id: dibao_standard
    type: money
    description: {zh: 城乡居民最低生活保障标准（元/人·月）, en: Minimum living standard (yuan per person per month)}
    values:
      - {region: "3302", from: 2025-01-01, value: 1000}
      - {region: "330203", from: 2025-01-01, value: 1118}
policies:
  - id: dibao
    title: {zh: 最低生活保障, en: Minimum living allowance}
    domain: assistance
    department: dept.haishu.mca
    legal_basis: 《社会救助暂行办法》第九条
    unit: household
    views: [household, person]
    benefit: dibao
    apply_via: onething.dibao
    criteria:
      - id: income
        description: {zh: 家庭月人均收入低于当地低保标准, en: Monthly income per member below the local standard}
        expr: household.income_per_capita_monthly < param.dibao_standard
      - id: no_vehicle
        description: {zh: 家庭无机动车, en: No motor vehicle}
        expr: household.vehicles == 0
    amount: max(param.dibao_standard * household.member_count - household.income_monthly, fen(0))
  - id: risk_income_halved
    title: {zh: 收入骤降预警, en: Income fell by more than half}
    domain: monitoring
    department: dept.haishu.mca
    legal_basis: 《社会救助暂行办法》第十一条
    unit: person
    views: [person, previous]
    criteria:
      - id: had_income
        description: {zh: 上次筛查时有收入, en: Had an income at the previous screening}
        expr: previous.income_monthly > fen(0)
      - id: halved
        description: {zh: 月收入下降超过一半, en: Monthly income fell by more than half}
        expr: income_monthly * 2 < previous.income_monthly
"""


@dataclass
class City:
    under: int  # household head just under the line, with an account (resident.under)
    under_child: int
    over: int  # just over, with an account (resident.over)
    enrolled: int  # under the line and already on 低保
    no_account: int  # under the line, no account: the visit list
    halved: int  # income halved: a risk alert (resident.halved)
    policies_dir: Path


_seq = iter(range(1, 999, 2))


def _id_number(birth: dt.date) -> str:
    prefix = f"330203{birth:%Y%m%d}{next(_seq):03d}"
    return prefix + ric_check_char(prefix)


def _month(d: dt.date, back: int) -> str:
    m = d.year * 12 + d.month - 1 - back
    return f"{m // 12:04d}-{m % 12 + 1:02d}"


def _household(s: Session, number: str, members: list[tuple[str, int, int]], *, vehicles: int = 0,
               account: str | None = None) -> list[int]:
    """members: (name, monthly income fen over the last 6 months, over the 6 months before)."""
    address = Address(region_code=COMMUNITY, road="紫金巷", number=number[-2:], building="1", unit="1", room="101")
    s.add(address)
    s.flush()
    hh = Household(household_number=number, region_code=COMMUNITY, address_id=address.id, housing_area_m2=40,
                   vehicles=vehicles)
    s.add(hh)
    s.flush()
    ids = []
    today = today_local()
    for i, (name, recent, earlier) in enumerate(members):
        birth = dt.date(1980 + i * 30, 3, 1) if i == 0 else dt.date(2015, 3, 1)
        p = Person(id_number=_id_number(birth), name=name, sex="M", birth_date=birth, phone=f"1390000{number[-4:]}",
                   hukou_region_code=COMMUNITY, region_code=COMMUNITY, address_id=address.id, household_id=hh.id,
                   alive=True, marital_status="single", employment_status="employed" if recent else "none")
        s.add(p)
        s.flush()
        s.add(HouseholdMember(household_id=hh.id, person_id=p.id, relationship="head" if i == 0 else "child"))
        for back in range(1, 13):
            amount = recent if back <= 6 else earlier
            if amount:
                s.add(IncomeRecord(person_id=p.id, month=_month(today, back), source="wage", amount_fen=amount))
        ids.append(p.id)
    hh.head_person_id = ids[0]
    if account:
        identity.create_account(s, kind="resident", username=account, password=PASSWORD, display_name=account,
                                id_number=s.get_one(Person, ids[0]).id_number, region_code=COMMUNITY)
    s.flush()
    return ids


def _dibao_onething(s: Session) -> None:
    """A 低保 application (one item of 民政, approval enrols in `dibao`), shaped like the demo's items."""
    item = copy.deepcopy(s.get_one(ServiceItem, "item.medical-insurance").definition)
    item.update(id="item.test-dibao", code="330203-MZ-T001", department="dept.haishu.mca",
                title={"zh": "最低生活保障申请", "en": "Minimum living allowance"},
                form=[{"element": "applicant_phone"}, {"element": "household_number"}], materials=[],
                outputs={"effect": "enrol", "benefit_code": "dibao"})
    s.add(ServiceItem(id="item.test-dibao", code="330203-MZ-T001", department_id="dept.haishu.mca", definition=item,
                      pack_id="test"))
    ot = copy.deepcopy(s.get_one(OneThing, "onething.birth"))
    definition = {**ot.definition, "id": "onething.dibao", "items": ["item.test-dibao"], "requires": {},
                  "title": {"zh": "低保一件事", "en": "Minimum living allowance"}}
    s.add(OneThing(id="onething.dibao", definition=definition, savings=ot.savings, pack_id="test"))
    s.flush()


def load_policies(session: Session, engine: PolicyEngine) -> None:
    """Make `engine`'s policy folder the loaded pack's policies, as loading a pack with them would
    (`policy.digests`): screening refuses policies the loaded pack does not hold."""
    from tongban.core.packs.loader import current_pack_version
    from tongban.policy import digests

    pack = current_pack_version(session)
    assert pack is not None
    digests.record(session, pack_id=pack[0], version=pack[1], policies=engine.policy_set)


@pytest.fixture()
def city(db, settings, tmp_path: Path) -> Iterator[City]:  # type: ignore[no-untyped-def]
    masking.configure(settings.secret_key)
    folder = tmp_path / "policies"
    (folder / "policies").mkdir(parents=True)
    (folder / "policies" / "test.yaml").write_text(textwrap.dedent(POLICIES), encoding="utf-8")
    (folder / "screening").mkdir()
    (folder / "screening" / "alerts.yaml").write_text(
        "alerts:\n  - {policy: risk_income_halved, severity: high}\n", encoding="utf-8")
    engine = PolicyEngine(folder)
    with db.unit_of_work() as s:
        load_demo(s, settings)
        load_policies(s, engine)
        _dibao_onething(s)
        under = _household(s, "H330203009901", [("甲一", 223_400, 223_400), ("甲二", 0, 0)], account="resident.under")
        over = _household(s, "H330203009902", [("乙一", 111_800, 111_800)], account="resident.over")
        enrolled = _household(s, "H330203009903", [("丙一", 50_000, 50_000)])
        s.add(BenefitEnrolment(subject_kind="household", subject_id=s.get_one(Person, enrolled[0]).household_id,
                               benefit_code="dibao", start_date=dt.date(2025, 1, 1)))
        no_account = _household(s, "H330203009904", [("丁一", 60_000, 60_000)])
        halved = _household(s, "H330203009905", [("戊一", 300_000, 700_000)], vehicles=1, account="resident.halved")
    set_engine(engine)
    yield City(under[0], under[1], over[0], enrolled[0], no_account[0], halved[0], folder)
    set_engine(None)
