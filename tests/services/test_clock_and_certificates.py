"""Working-day clocks (a real holiday skipped, an adjusted workday counted, 补正 restarts the
clock), certificate tampering and revocation, and pack-load errors of the services sections."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.services.conftest import birth_data
from tongban.core.identity import service as identity
from tongban.core.identity.models import Account
from tongban.core.keys import keyring_for
from tongban.core.packs.loader import PackError, read_pack
from tongban.core.timeutil import SHANGHAI
from tongban.registry.models import Certificate
from tongban.services import applications, certificates

DEMO = Path(__file__).resolve().parents[2] / "packs" / "demo"
# Monday 30 September 2024, 10:00 in Shanghai: National Day holidays 1–7 October, Saturday
# 12 October an adjusted workday (State Council schedule for 2024).
BEFORE_NATIONAL_DAY = dt.datetime(2024, 9, 30, 10, 0, tzinfo=SHANGHAI)


def principal(session, username: str):  # type: ignore[no-untyped-def]
    account = session.scalars(select(Account).where(Account.username == username)).one()
    return identity.principal_for_account(session, account)


def test_due_dates_skip_a_real_holiday_and_count_an_adjusted_workday(demo) -> None:  # type: ignore[no-untyped-def]
    with demo.unit_of_work() as s:
        app, _ = applications.submit(s, principal=principal(s, "resident.zhang"), idempotency_key="nd",
                                     onething_id="onething.birth", data=birth_data(), now=BEFORE_NATIONAL_DAY)
        due = {t.item_id: t.due_date for t in applications.tasks_of(s, app.id)}
    # 1 working day after 30 Sep: 1–7 Oct are holidays → Tuesday 8 Oct.
    assert due["item.birth-certificate"] == dt.date(2024, 10, 8)
    # 2 working days: 8 Oct, 9 Oct.
    assert due["item.vaccination"] == dt.date(2024, 10, 9)
    assert due["item.household-birth"] is None  # blocked: its clock has not started


def test_an_adjusted_saturday_counts_as_a_working_day(demo) -> None:  # type: ignore[no-untyped-def]
    with demo.unit_of_work() as s:
        app, _ = applications.submit(s, principal=principal(s, "resident.zhang"), idempotency_key="sat",
                                     onething_id="onething.birth", data=birth_data(),
                                     now=dt.datetime(2024, 10, 11, 9, 0, tzinfo=SHANGHAI))  # Friday
        due = {t.item_id: t.due_date for t in applications.tasks_of(s, app.id)}
    assert due["item.birth-certificate"] == dt.date(2024, 10, 12)  # Saturday 12 Oct, 调休 workday
    assert due["item.vaccination"] == dt.date(2024, 10, 14)


def test_a_supplement_restarts_the_clock(demo, settings) -> None:  # type: ignore[no-untyped-def]
    ring = keyring_for(settings)
    with demo.unit_of_work() as s:
        app, _ = applications.submit(s, principal=principal(s, "resident.zhang"), idempotency_key="sup",
                                     onething_id="onething.birth", data=birth_data(), now=BEFORE_NATIONAL_DAY)
        task = next(t for t in applications.tasks_of(s, app.id) if t.item_id == "item.vaccination")
        assert task.due_date == dt.date(2024, 10, 9)
        applications.decide(s, principal=principal(s, "officer.cdc"), task_id=task.id, decision="return",
                            reason="请补充联系电话", version=task.version, keyring=ring,
                            now=dt.datetime(2024, 10, 8, 10, 0, tzinfo=SHANGHAI))
        answered = applications.supplement(s, principal=principal(s, "resident.zhang"), application_id=app.id,
                                           task_id=task.id, data={"applicant_phone": "13800000109"},
                                           now=dt.datetime(2024, 10, 14, 9, 0, tzinfo=SHANGHAI))
        assert answered.status == "ready"
        assert answered.clock_started_on == dt.date(2024, 10, 14)
        assert answered.due_date == dt.date(2024, 10, 16)


def _issued(demo, settings) -> int:  # type: ignore[no-untyped-def]
    ring = keyring_for(settings)
    with demo.unit_of_work() as s:
        app, _ = applications.submit(s, principal=principal(s, "resident.zhang"), idempotency_key="cert",
                                     onething_id="onething.birth", data=birth_data())
        task = next(t for t in applications.tasks_of(s, app.id) if t.item_id == "item.vaccination")
        applications.decide(s, principal=principal(s, "officer.cdc"), task_id=task.id, decision="approve",
                            version=task.version, keyring=ring)
        # Not yet issued: the newborn is not registered; the applicant holds it once the rest finish.
        assert s.scalar(select(Certificate.id)) is None
        for t in applications.tasks_of(s, app.id):
            if t.status == "ready":
                applications.decide(s, principal=principal(s, "officer.health"), task_id=t.id, decision="reject",
                                    reason="不予签发", version=t.version, keyring=ring)
        cert_id = s.scalars(select(Certificate.id)).one()
    return int(cert_id)


def test_a_tampered_certificate_fails_verification_online_and_offline(demo, settings, clock) -> None:  # type: ignore[no-untyped-def]
    cert_id = _issued(demo, settings)
    ring = keyring_for(settings)
    public = {k.kid: k.public_key_pem for k in ring.list()}
    with demo.unit_of_work() as s:
        assert certificates.verify_online(s, keyring=ring, certificate_id=cert_id, today=dt.date(2025, 6, 11))["valid"]
        doc = certificates.document(s.get_one(Certificate, cert_id))
    assert certificates.verify_document(doc, public) is True
    assert certificates.verify_document({**doc, "holder": "王五"}, public) is False
    assert certificates.verify_document({**doc, "data": {**doc["data"], "child_name": "李四"}}, public) is False
    assert certificates.verify_document({**doc, "kid": "certificate-unknown"}, public) is False
    with demo.unit_of_work() as s:
        s.get_one(Certificate, cert_id).number = "YF2024000000001"
    with demo.unit_of_work() as s:
        result = certificates.verify_online(s, keyring=ring, certificate_id=cert_id, today=dt.date(2025, 6, 11))
    assert result["valid"] is False and result["signature_valid"] is False


def test_a_revoked_certificate_is_not_valid_for_verifiers(demo, settings, clock) -> None:  # type: ignore[no-untyped-def]
    cert_id = _issued(demo, settings)
    ring = keyring_for(settings)
    with demo.unit_of_work() as s:
        s.get_one(Certificate, cert_id).status = "revoked"
    with demo.unit_of_work() as s:
        result = certificates.verify_online(s, keyring=ring, certificate_id=cert_id, today=dt.date(2025, 6, 11))
    assert (result["valid"], result["signature_valid"], result["status"]) == (False, True, "revoked")


# --- pack load errors -----------------------------------------------------------------------------


@pytest.fixture()
def pack_copy(tmp_path: Path) -> Path:
    root = tmp_path / "pack"
    shutil.copytree(DEMO, root)
    return root


def _problems(root: Path) -> str:
    with pytest.raises(PackError) as exc:
        read_pack(root)
    return str(exc.value)


def test_an_item_naming_a_missing_element_fails_to_load_with_file_and_line(pack_copy: Path) -> None:
    f = pack_copy / "items" / "vaccination.yaml"
    f.write_text(f.read_text(encoding="utf-8").replace("{element: applicant_phone}", "{element: applicant_fax}"),
                 encoding="utf-8")
    problems = _problems(pack_copy)
    assert "items/vaccination.yaml:" in problems and "element 'applicant_fax' is not defined" in problems


def test_a_cycle_in_the_dependencies_fails_to_load(pack_copy: Path) -> None:
    f = pack_copy / "onethings" / "birth.yaml"
    f.write_text(f.read_text(encoding="utf-8").replace(
        "item.household-birth: [item.birth-certificate]",
        "item.household-birth: [item.birth-certificate]\n    item.birth-certificate: [item.social-security-card]"),
        encoding="utf-8")
    problems = _problems(pack_copy)
    assert "onethings/birth.yaml:" in problems and "cycle" in problems and "[onething.birth]" in problems


def test_an_item_using_an_element_with_another_type_fails_to_load(pack_copy: Path) -> None:
    f = pack_copy / "items" / "medical-insurance.yaml"
    f.write_text(f.read_text(encoding="utf-8").replace("{element: household_number}",
                                                       "{element: household_number, type: integer}"),
                 encoding="utf-8")
    problems = _problems(pack_copy)
    assert "items/medical-insurance.yaml:" in problems and "'household_number' is a string" in problems


def test_a_onething_naming_a_missing_item_fails_to_load(pack_copy: Path) -> None:
    f = pack_copy / "onethings" / "birth.yaml"
    f.write_text(f.read_text(encoding="utf-8").replace("item.vaccination, ", "item.vaccination, item.lost, "),
                 encoding="utf-8")
    assert "item 'item.lost' is not defined" in _problems(pack_copy)
