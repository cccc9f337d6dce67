"""The cockpit: its store kept fresh, its figures rolled up and scoped (a leader's region, a
department head's department), suppressed where small so nothing can be worked back, exported
(CSV, XLSX) with every export audited, and the early warnings of the pack's rules."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from sqlalchemy import func, select

from tests.cockpit import fakes
from tests.factories import refusal_count
from tongban.cockpit import figures, store, warnings
from tongban.cockpit.models import CockpitCell, CockpitSetting, CockpitState, CockpitWarning
from tongban.core import access
from tongban.core import clock as core_clock
from tongban.core.audit.models import AuditEvent
from tongban.core.identity.models import Account, Region


def _city(db, persons: int = 400) -> None:  # type: ignore[no-untyped-def]
    from tongban.registry import generator, loader

    config = generator.CityConfig(persons=persons, seed=3, communities=tuple(loader.community_codes(db)),
                                  as_of=core_clock.today(), shapes=loader.community_shapes(db))
    loader.load(db, generator.generate(config))


def _principal(db, username: str) -> access.Principal:  # type: ignore[no-untyped-def]
    from tongban.core.identity import service as identity

    with db.unit_of_work() as s:
        account = s.scalar(select(Account).where(Account.username == username))
        assert account is not None
        return identity.principal_for_account(s, account)


# --- the store -----------------------------------------------------------------------------------


def test_a_refresh_recomputes_only_the_days_that_may_have_changed(demo, clock, monkeypatch):  # type: ignore[no-untyped-def]
    fakes.use(monkeypatch, fakes.BIRTHS, fakes.MARRIED)
    _city(demo)
    today = core_clock.today()
    with demo.unit_of_work() as s:
        first = store.refresh(s)
        assert first.days["test.births"] == (today - dt.timedelta(days=364), today)  # history_days of the pack
        assert first.days["test.married"] == (today, today)  # a stock: today's snapshot only
        as_of = s.get(CockpitState, "test.births").refreshed_at
    assert as_of == core_clock.now()
    clock.advance(dt.timedelta(days=1, minutes=3))
    with demo.unit_of_work() as s:
        again = store.refresh(s)
        # the trailing lookback of the pack (35 days) before the last refreshed day, to the new today
        assert again.days["test.births"] == (today - dt.timedelta(days=35), today + dt.timedelta(days=1))
        assert s.get(CockpitState, "test.births").refreshed_at == core_clock.now()
        # yesterday's stock snapshot stays; today's is added
        days = set(s.scalars(select(CockpitCell.day).where(CockpitCell.indicator == "test.married")))
        assert days == {today, today + dt.timedelta(days=1)}


def test_an_indicator_naming_its_changed_days_is_recomputed_from_the_earliest(demo, clock, monkeypatch):  # type: ignore[no-untyped-def]
    from dataclasses import replace

    today = core_clock.today()
    seen: list[dt.datetime] = []

    def changed(session, *, since):  # type: ignore[no-untyped-def]
        seen.append(since)
        return [today - dt.timedelta(days=90)]

    fakes.use(monkeypatch, replace(fakes.BIRTHS, changed=changed))
    with demo.unit_of_work() as s:
        store.refresh(s)
        again = store.refresh(s)
    assert again.days["test.births"] == (today - dt.timedelta(days=90), today)
    assert seen == [core_clock.now()]


def test_the_refresh_job_is_scheduled_well_within_five_minutes() -> None:
    from tongban.core.jobs import registry

    registry.load_modules(["tongban.cockpit.jobs"])
    assert registry.get_handler("cockpit.refresh") is not None
    (found,) = [s for s in registry.schedules() if s.kind == "cockpit.refresh"]
    assert found.interval_seconds <= 300 - 60  # a run a minute long still leaves no figure older than 5 min


# --- what a leader sees ----------------------------------------------------------------------------


def test_a_leader_sees_each_level_of_their_region_with_the_as_of_time(client, login, demo, clock, monkeypatch):  # type: ignore[no-untyped-def]
    fakes.use(monkeypatch, fakes.BIRTHS)
    _city(demo, 3_000)
    with demo.unit_of_work() as s:
        store.refresh(s)
    h = login("leader.haishu")
    listed = client.get("/api/v1/cockpit/indicators", headers=h).json()
    assert {"cockpit.staff", "test.births"} <= {i["key"] for i in listed}
    assert all(i["as_of"] for i in listed)
    frm = (core_clock.today() - dt.timedelta(days=364)).isoformat()
    streets = client.get(f"/api/v1/cockpit/indicators/test.births?from={frm}", headers=h).json()
    assert streets["region"] == "330203" and streets["level"] == "street" and streets["as_of"]
    assert {r["region"][:6] for r in streets["rows"]} == {"330203"}
    communities = client.get(f"/api/v1/cockpit/indicators/test.births?level=community&from={frm}", headers=h).json()
    total = {tuple(r["key"].values()): r for r in communities["total"]}
    # a figure that is shown is the sum of its children's, where all of them are shown
    for sex, row in total.items():
        kids = [r for r in communities["rows"] if tuple(r["key"].values()) == sex]
        if not row["suppressed"] and all(not r["suppressed"] for r in kids):
            assert row["value"] == sum(r["value"] for r in kids)
    assert client.get("/api/v1/cockpit/indicators/test.births?region=330205", headers=h).status_code == 403


def _equations(t: figures.Table, nodes: dict[str, bool]) -> list[list[str]]:
    codes = list(nodes)
    out = []
    for parent in codes:
        if parent.endswith(figures.REMAINDER):
            continue
        kids = [c for c in codes if c != parent and access.in_subtree(c.rstrip(figures.REMAINDER), parent)
                and _nearest(c, codes) == parent]
        if kids:
            out.append([parent, *kids])
    return out


def _nearest(code: str, codes: list[str]) -> str | None:
    bare = code.rstrip(figures.REMAINDER)
    if code.endswith(figures.REMAINDER):
        return bare
    above = [a for a in codes if not a.endswith(figures.REMAINDER) and a != bare and access.in_subtree(bare, a)]
    return max(above, key=lambda a: len(access.region_prefix(a)), default=None)


def test_a_suppressed_cell_cannot_be_recovered_from_its_parent_and_siblings(demo, clock, monkeypatch):  # type: ignore[no-untyped-def]
    fakes.use(monkeypatch, fakes.BIRTHS)
    _city(demo, 600)
    with demo.unit_of_work() as s:
        store.refresh(s)
    leader = _principal(demo, "leader.haishu")
    frm = core_clock.today() - dt.timedelta(days=364)
    hidden_somewhere = 0
    with demo.unit_of_work() as s:
        for key in ("test.births", "cockpit.staff"):
            # every level the leader can ask for: together they show every node of the subtree
            shown: dict[tuple[str, tuple[str, ...]], bool] = {}
            for level in ("county", "street", "community"):
                t = figures.table(s, leader, key, level=level, day_from=frm)
                for r in (*t.total, *t.rows):
                    assert shown.setdefault((r.region, r.key), r.suppressed) == r.suppressed  # one decision
                    if not r.suppressed:
                        assert r.measures[t.indicator.subjects or ""] == 0 or \
                            r.measures[t.indicator.subjects or ""] >= t.min_count
            for k in {k for _n, k in shown}:
                nodes = {n: hid for (n, kk), hid in shown.items() if kk == k}
                hidden_somewhere += sum(nodes.values())
                for equation in _equations(t, nodes):
                    unknown = [c for c in equation if nodes[c]]
                    assert len(unknown) != 1, f"{key} {k}: {unknown[0]} = parent − siblings"
            # a street's own view hides what its district's view hides
            street = figures.table(s, leader, key, region="330203001", level="community", day_from=frm)
            for r in (*street.total, *street.rows):
                if (r.region, r.key) in shown:
                    assert shown[(r.region, r.key)] == r.suppressed
    assert hidden_somewhere > 0  # the demo's small counts are there to be hidden


# --- a department head -----------------------------------------------------------------------------


def test_a_department_head_sees_only_their_department(client, login, demo, monkeypatch):  # type: ignore[no-untyped-def]
    fakes.use(monkeypatch, fakes.BIRTHS)
    with demo.unit_of_work() as s:
        rules = s.get(CockpitSetting, "rules")
        # 南门街道办事处 has three staff accounts: a rule that finds fewer than five too few
        rules.value = [{**r, "threshold": 5} for r in rules.value if r["id"] == "warn.thin-department"]
        s.flush()
        store.refresh(s)
    h = login("head.nanmen")
    listed = client.get("/api/v1/cockpit/indicators", headers=h).json()
    # only indicators with a department dimension (cockpit.staff and the slices' own)
    from tongban.core import indicators as contract
    from tongban.core import slices as registry

    with_department = {i.key for t in registry.contributed(contract.INDICATORS)
                       for i in (t if isinstance(t, tuple) else (t,)) if "department" in i.dimensions}
    assert "cockpit.staff" in {i["key"] for i in listed} and {i["key"] for i in listed} <= with_department | {"cockpit.staff"}
    t = client.get("/api/v1/cockpit/indicators/cockpit.staff?level=community", headers=h).json()
    assert t["department"] == "dept.nanmen.office" and t["region"] == "330203001"
    rows = [r for r in (*t["total"], *t["rows"])]
    assert rows and {r["key"]["department"] for r in rows} == {"dept.nanmen.office"}
    assert client.get("/api/v1/cockpit/indicators/test.births", headers=h).status_code == 404
    before = refusal_count(demo)
    assert client.get("/api/v1/cockpit/indicators/cockpit.staff?region=330203", headers=h).status_code == 403
    assert refusal_count(demo) == before + 1
    warned = client.get("/api/v1/cockpit/warnings", headers=h).json()
    assert warned and {w["actor"] for w in warned} == {"dept.nanmen.office"}
    # the leader sees every department's
    leader = client.get("/api/v1/cockpit/warnings", headers=login("leader.haishu")).json()
    assert len({w["actor"] for w in leader}) > 1


# --- exports -----------------------------------------------------------------------------------------


def test_an_export_is_audited_and_holds_what_the_table_shows(client, login, demo):  # type: ignore[no-untyped-def]
    h = login("leader.haishu")
    table = client.get("/api/v1/cockpit/indicators/cockpit.staff?level=street", headers=h).json()
    with demo.unit_of_work() as s:
        before = s.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "cockpit.export"))
    got = client.get("/api/v1/cockpit/indicators/cockpit.staff/export.csv?level=street", headers=h)
    assert got.status_code == 200 and got.headers["content-type"].startswith("text/csv")
    lines = list(csv.reader(io.StringIO(got.content.decode("utf-8-sig"))))
    assert lines[1][:2] == ["区划代码", "所属地区"]
    body = lines[2:]
    assert len(body) == len(table["total"]) + len(table["rows"])
    suppressed = [r for r in (*table["total"], *table["rows"]) if r["suppressed"]]
    assert suppressed and sum(1 for line in body if line[-1] == "小数抑制（不予显示）") == len(suppressed)
    xlsx = client.get("/api/v1/cockpit/indicators/cockpit.staff/export.xlsx?level=street", headers=h)
    assert xlsx.status_code == 200
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet is not None and sheet.max_row == len(body) + 2
    with demo.unit_of_work() as s:
        events = s.scalars(select(AuditEvent).where(AuditEvent.action == "cockpit.export")
                           .order_by(AuditEvent.id)).all()
        assert len(events) == before + 2
        assert events[-1].subject == "indicator:cockpit.staff" and events[-1].region_code == "330203"
        assert '"format":"xlsx"' in events[-1].details


def test_bad_requests_are_refused_with_the_field_named_and_nothing_audited(client, login, demo):  # type: ignore[no-untyped-def]
    h = login("leader.haishu")
    with demo.unit_of_work() as s:
        before = s.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "cockpit.export"))
    nope = client.get("/api/v1/cockpit/indicators/no.such", headers=h)
    assert nope.status_code == 404 and nope.headers["content-type"].startswith("application/problem+json")
    assert client.get("/api/v1/cockpit/indicators/cockpit.staff?level=planet", headers=h).status_code == 422
    backwards = client.get("/api/v1/cockpit/indicators/cockpit.staff/export.csv?from=2025-06-10&to=2025-06-01",
                           headers=h)
    assert backwards.status_code == 422 and backwards.json()["field"] == "from"
    above = client.get("/api/v1/cockpit/indicators/cockpit.staff?level=city", headers=h)
    assert above.status_code == 422 and above.json()["field"] == "level"
    unknown = client.get("/api/v1/cockpit/indicators/cockpit.staff?region=330203999", headers=h)
    assert unknown.status_code == 422 and unknown.json()["field"] == "region"
    assert client.get("/api/v1/cockpit/indicators/cockpit.staff/export.pdf", headers=h).status_code == 422
    for who in ("resident.zhang", "officer.health"):
        assert client.get("/api/v1/cockpit/indicators", headers=login(who)).status_code == 403
        assert client.get("/api/v1/cockpit/indicators/cockpit.staff/export.csv",
                          headers=login(who)).status_code == 403
    with demo.unit_of_work() as s:
        assert s.scalar(select(func.count()).select_from(AuditEvent)
                        .where(AuditEvent.action == "cockpit.export")) == before


# --- early warnings -------------------------------------------------------------------------------


def test_a_warning_names_who_can_act_and_where(client, login, demo):  # type: ignore[no-untyped-def]
    h = login("leader.haishu")
    listed = client.get("/api/v1/cockpit/warnings", headers=h).json()
    thin = [w for w in listed if w["rule"] == "warn.thin-department"]
    assert thin and all(w["actor_kind"] == "department" and w["href"] == "/workbench" for w in thin)
    with demo.unit_of_work() as s:
        raised = s.scalars(select(CockpitWarning).where(CockpitWarning.rule == "warn.thin-department",
                                                        CockpitWarning.region.startswith("330203"))).all()
        assert {w.actor for w in raised} == {w["actor"] for w in thin}
        assert all(w.value is not None and w.value < 2 for w in raised)
    # one staff account is a small count: the figure is not shown, only that it is small
    assert {w["value"] for w in thin} == {"少于10"}
    # 海曙区民政局 has several officers in the cast: not too thin
    assert "dept.haishu.mca" not in {w["actor"] for w in thin}
    assert any(w["actor_name"] == "西门街道办事处" for w in thin)  # one officer


@pytest.mark.parametrize(("comparison", "value", "previous", "threshold", "fires"), [
    ("above", 3.0, None, 2.0, True), ("above", 2.0, None, 2.0, False), ("below", 1.0, None, 2.0, True),
    ("below", 2.0, None, 2.0, False), ("fall", 0.7, 0.85, 0.1, True), ("fall", 0.8, 0.85, 0.1, False),
    ("rise", 12.0, 5.0, 5.0, True), ("rise", 9.0, 5.0, 5.0, False), ("fall", 0.7, None, 0.1, False),
    ("above", None, None, 0.0, False)])
def test_a_rule_fires_by_its_comparison(comparison, value, previous, threshold, fires) -> None:  # type: ignore[no-untyped-def]
    assert warnings._fires(comparison, value, previous, threshold) is fires


def test_a_rise_rule_compares_the_window_with_the_one_before(demo, clock, monkeypatch):  # type: ignore[no-untyped-def]
    fakes.use(monkeypatch, fakes.BIRTHS)
    _city(demo, 2_000)
    with demo.unit_of_work() as s:
        store.refresh(s)
        rule = {"id": "warn.births", "title": {"zh": "出生", "en": "Births"}, "indicator": "test.births",
                "level": "county", "by": [], "window_days": 180, "comparison": "rise", "threshold": -1000,
                "act": {"role": "leader"}, "href": "/cockpit/indicators/test.births?region={region}"}
        s.get(CockpitSetting, "rules").value = [rule]
        s.flush()
        assert warnings.evaluate(s) > 0
        w = s.scalars(select(CockpitWarning).where(CockpitWarning.region == "330203")).one()
        today = core_clock.today()
        rows = s.execute(select(CockpitCell.day, CockpitCell.region, CockpitCell.measures)
                         .where(CockpitCell.indicator == "test.births")).all()
        def births(a: dt.date, b: dt.date) -> float:
            return sum(m["persons"] for d, r, m in rows if a <= d <= b and r.startswith("330203"))
        assert w.value == births(today - dt.timedelta(days=179), today)
        assert w.previous == births(today - dt.timedelta(days=359), today - dt.timedelta(days=180))
        assert w.href == "/cockpit/indicators/test.births?region=330203" and w.actor == "leader"


# --- the pack -------------------------------------------------------------------------------------


def _pack_with(tmp_path, text: str) -> list[str]:  # type: ignore[no-untyped-def]
    """The problems of the demo pack with this cockpit.yaml (none: it reads)."""
    import shutil
    from pathlib import Path

    from tongban.core.packs.loader import PackError, read_pack

    pack = tmp_path / f"pack{len(list(tmp_path.iterdir()))}"
    shutil.copytree(Path(__file__).resolve().parents[2] / "packs" / "demo", pack)
    (pack / "cockpit.yaml").write_text(text, encoding="utf-8")
    try:
        read_pack(pack)
    except PackError as exc:
        return [str(p) for p in exc.problems]
    return []


RULE = """warnings:
  - id: warn.x
    title: {zh: 预警, en: A warning}
    indicator: cockpit.staff
    level: county
    by: %s
    comparison: below
    threshold: 2
    act: %s
    href: /workbench
"""


def test_a_rule_needs_exactly_one_who_and_a_department_to_name(tmp_path) -> None:  # type: ignore[no-untyped-def]
    both = _pack_with(tmp_path, RULE % ("[department]", "{role: leader, department: dept.haishu.gov}"))
    assert any("exactly one" in p and "cockpit.yaml" in p for p in both)
    no_by = _pack_with(tmp_path, RULE % ("[]", "{cell_department: true}"))
    assert any("cell_department needs" in p for p in no_by)
    no_role = _pack_with(tmp_path, RULE % ("[]", "{role: astronaut}"))
    assert any("astronaut" in p for p in no_role)
    assert _pack_with(tmp_path, RULE % ("[department]", "{cell_department: true}")) == []


def test_a_rule_on_an_indicator_no_slice_publishes_is_a_pack_warning(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import shutil
    from pathlib import Path

    from tongban.core.packs.loader import pack_warnings, read_pack

    pack = tmp_path / "pack"
    shutil.copytree(Path(__file__).resolve().parents[2] / "packs" / "demo", pack)
    (pack / "cockpit.yaml").write_text((RULE % ("[department]", "{cell_department: true}")).replace(
        "cockpit.staff", "nobody.publishes"), encoding="utf-8")
    assert any("nobody.publishes" in w for w in pack_warnings(read_pack(pack)))


# --- the service history ------------------------------------------------------------------------


def test_the_history_command_runs_every_part_in_order_then_refreshes(cli, demo, clock, monkeypatch):  # type: ignore[no-untyped-def]
    from tongban.cockpit import history
    from tongban.core.indicators import History, HistoryPart

    ran: list[tuple[str, History]] = []

    def part(key: str, rows: int):  # type: ignore[no-untyped-def]
        def write(h: History) -> int:
            assert h.notes is not None
            h.notes[key] = rows
            ran.append((key, h))
            return rows
        return write

    parts = [HistoryPart("later.ratings", 50, part("later.ratings", 3)),
             HistoryPart("first.services", 10, part("first.services", 7))]
    monkeypatch.setattr(history, "parts", lambda: sorted(parts, key=lambda p: p.order))
    result = cli("cockpit", "history", "--persons", "300", "--days", "30", "--seed", "5")
    assert result.exit_code == 0, result.output
    assert [k for k, _h in ran] == ["first.services", "later.ratings"]
    h = ran[1][1]
    assert (h.persons, h.seed, h.end - h.start) == (300, 5, dt.timedelta(days=29))
    assert h.notes == {"first.services": 7, "later.ratings": 3}  # one History: later parts see earlier notes
    with demo.unit_of_work() as s:
        assert s.scalar(select(func.count()).select_from(Region)) > 0
        assert s.get(CockpitState, "cockpit.staff") is not None
        from tongban.registry.models import Person
        assert s.scalar(select(func.count()).select_from(Person)) >= 300
    bad = cli("cockpit", "history", "--persons", "0", "--days", "30")
    assert bad.exit_code == 2


# --- the pages -----------------------------------------------------------------------------------


def test_the_cockpit_page_lists_indicators_and_warnings_and_a_table_page_exports(client, demo):  # type: ignore[no-untyped-def]
    from tests.factories import web_login
    from tests.services.conftest import DEMO_PASSWORD

    web_login(client, "leader.haishu", DEMO_PASSWORD)
    home = client.get("/cockpit")
    assert home.status_code == 200
    assert "工作人员账号" in home.text and "部门在岗人员不足" in home.text and "前往处置" in home.text
    page = client.get("/cockpit/indicators/cockpit.staff?level=street")
    assert page.status_code == 200 and "数据截至" in page.text and "不予显示" in page.text
    assert "/api/v1/cockpit/indicators/cockpit.staff/export.xlsx?level=street&amp;region=330203" in page.text
    bad = client.get("/cockpit/indicators/cockpit.staff?from=2025-13-01")
    assert bad.status_code == 422
    web_login(client, "head.nanmen", DEMO_PASSWORD)
    head = client.get("/cockpit/indicators/cockpit.staff?level=community")
    assert head.status_code == 200 and "南门街道办事处" in head.text and "西门街道办事处" not in head.text
    assert "您只能查看本部门的指标" in head.text


def test_a_rule_with_a_minimum_base_ignores_small_figures(demo):  # type: ignore[no-untyped-def]
    with demo.unit_of_work() as s:
        rules = s.get(CockpitSetting, "rules")
        thin = next(r for r in rules.value if r["id"] == "warn.thin-department")
        rules.value = [{**thin, "min_base": 2}]
        s.flush()
        assert warnings.evaluate(s) == 0  # every department below two staff has fewer than two to count
        rules.value = [{**thin, "min_base": 1}]
        s.flush()
        assert warnings.evaluate(s) > 0


def test_the_cockpit_scope_fails_closed() -> None:
    def staff(*permissions: str, region: str | None = "330203", department: str | None = "dept.haishu.gov"):  # type: ignore[no-untyped-def]
        return access.Principal(kind="staff", account_id=9, region_code=region, department_id=department,
                                permissions=frozenset(permissions))

    assert access.cockpit_scope(staff("cockpit.region")) == ("330203", None)
    assert access.cockpit_scope(staff("cockpit.department")) == ("330203", "dept.haishu.gov")
    assert access.cockpit_scope(staff("platform.admin", "cockpit.view")) == (None, None)
    for nothing in (staff("cockpit.view"), staff("cockpit.region", region=None),
                    staff("cockpit.department", department=None), staff("person.read")):
        with pytest.raises(access.Denied):
            access.cockpit_scope(nothing)
