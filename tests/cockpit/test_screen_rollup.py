"""The one screen read from the rollup gives the same figures as computed straight from the cells
(`screen.reference`): on generated stores with cells at communities, above them (the `~` nodes)
and at regions the Region table lacks; flows and stocks; a leader's region, a department head's
department and everything; suppression; periods not aligned to months; after an incremental write."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.cockpit import fakes, synthetic
from tongban.cockpit import screen, store
from tongban.cockpit.models import CockpitRollup, CockpitState
from tongban.core import access
from tongban.core import clock as core_clock
from tongban.core.errors import Invalid, NotFound
from tongban.core.identity.models import Region

ADMIN = access.Principal(kind="staff", account_id=1, permissions=frozenset({"platform.admin", "cockpit.view"}))
LEADER = access.Principal(kind="staff", account_id=2, region_code="330203", permissions=frozenset({"cockpit.region"}))
HEAD = access.Principal(kind="staff", account_id=3, region_code="330203", department_id="dept.nanmen.office",
                        permissions=frozenset({"cockpit.department"}))


def _periods(today: dt.date) -> list[tuple[dt.date | None, dt.date | None]]:
    return [(None, None), (today - dt.timedelta(days=47), today - dt.timedelta(days=3)),
            (today - dt.timedelta(days=364), today), (today - dt.timedelta(days=450), today - dt.timedelta(days=420))]


def _regions(session: Any, rng: random.Random, top: str) -> list[str | None]:
    """The top (None), and a district, a street, a community under `top` that exist, at random."""
    codes = sorted(c for c in session.scalars(select(Region.code)) if access.in_subtree(c, top))
    by_len = {n: [c for c in codes if len(c) == n] for n in (6, 9, 12)}
    return [None, *(rng.choice(by_len[n]) for n in (9, 12) if by_len[n])]


def _same(session: Any, principal: access.Principal, key: str, region: str | None,
          period: tuple[dt.date | None, dt.date | None], seen: dict[str, int]) -> None:
    got = screen.screen(session, principal, key, region=region, day_from=period[0], day_to=period[1])
    want = screen.reference(session, principal, key, region=region, day_from=period[0], day_to=period[1])
    assert got == want, f"{key} {principal.region_code} {principal.department_id} {region} {period}"
    seen["suppressed"] += sum(a.suppressed for a in (got.total, *got.children))
    seen["remainder"] += sum(a.code.endswith("~") for a in got.children)
    seen["shown"] += sum(a.value is not None for a in (got.total, *got.children))
    seen["trend"] += sum(t.value is not None for t in got.trend)


def _store(s: Any, seed: int, per_day: int) -> random.Random:
    rng = random.Random(seed)
    today = core_clock.today()
    where = synthetic.places(s)
    history = [today - dt.timedelta(days=i) for i in range(400)]
    for ind in synthetic.ALL:
        if ind.kind == "stock":  # snapshots on some days only
            days = sorted(rng.sample(history, 25))
            cells = synthetic.cells(ind, where, rng, days=days, per_day=per_day * 3)
        else:
            days = sorted(rng.sample(history, 150))
            cells = synthetic.cells(ind, where, rng, days=days, per_day=per_day)
        synthetic.fill(s, ind, cells, day_from=history[-1], day_to=today)
    return rng


@pytest.mark.parametrize(("seed", "principal"), [(1, ADMIN), (2, LEADER), (3, HEAD)], ids=["all", "leader", "head"])
def test_the_screen_from_the_rollup_is_the_screen_from_the_cells(demo, clock, monkeypatch, seed, principal):  # type: ignore[no-untyped-def]
    fakes.use(monkeypatch, *synthetic.ALL)
    seen = {"suppressed": 0, "remainder": 0, "shown": 0, "trend": 0}
    with demo.unit_of_work() as s:
        rng = _store(s, seed, per_day=3)
        assert all(s.get(CockpitState, i.key).rollup for i in synthetic.ALL)
        top = screen.top_region(s, principal)
        for ind in synthetic.ALL:
            if principal is HEAD and "department" not in ind.dimensions:
                with pytest.raises(NotFound):
                    screen.screen(s, principal, ind.key)
                continue
            regions = _regions(s, rng, top)
            for period in _periods(core_clock.today()):
                for region in regions if period == (None, None) else regions[:1]:
                    _same(s, principal, ind.key, region, period, seen)
    # the cases exercised what they are meant to (a department's few cells: maybe no `~` child)
    assert all(v for k, v in seen.items() if k != "remainder" or principal is not HEAD), seen


def test_an_incremental_write_keeps_the_rollup_equal_to_the_cells(demo, clock, monkeypatch):  # type: ignore[no-untyped-def]
    fakes.use(monkeypatch, *synthetic.ALL)
    seen = {"suppressed": 0, "remainder": 0, "shown": 0, "trend": 0}
    with demo.unit_of_work() as s:
        rng = _store(s, 7, per_day=2)
        today = core_clock.today()
        where = synthetic.places(s)
        for ind in (synthetic.FLOW, synthetic.STOCK):
            # a refresh's rewrite of the trailing days (the rollup of the other days kept)
            start = today - dt.timedelta(days=35 if ind.kind == "flow" else 0)
            days = [start + dt.timedelta(days=i) for i in range((today - start).days + 1)]
            store._write(s, ind, synthetic.cells(ind, where, rng, days=days, per_day=4), day_from=start, day_to=today)
            before = s.scalar(select(func.count()).select_from(CockpitRollup).where(CockpitRollup.indicator == ind.key))
            for principal in (ADMIN, HEAD) if ind is synthetic.FLOW else (ADMIN,):
                for region in (None, "330203001"):
                    _same(s, principal, ind.key, region, (None, None), seen)
                    _same(s, principal, ind.key, region, (today - dt.timedelta(days=100), today), seen)
            # and rebuilding it from the cells gives the same rows
            assert store.rebuild_rollup(s, [ind.key])[ind.key] == before
    assert seen["shown"] and seen["trend"]


def test_an_indicator_without_a_complete_rollup_is_computed_from_its_cells(demo, clock, monkeypatch):  # type: ignore[no-untyped-def]
    fakes.use(monkeypatch, *synthetic.ALL)
    with demo.unit_of_work() as s:
        _store(s, 3, per_day=2)
        s.get(CockpitState, "t.flow").rollup = False
        s.execute(CockpitRollup.__table__.delete().where(CockpitRollup.indicator == "t.flow"))
        s.flush()
        got = screen.screen(s, ADMIN, "t.flow", region="330203")
        assert got == screen.reference(s, ADMIN, "t.flow", region="330203") and got.total.value is not None
        # a refresh brings the rollup back: every stored day, not only those recomputed
        store.refresh(s, only=["t.flow"])
        assert s.get(CockpitState, "t.flow").rollup
        far = (core_clock.today() - dt.timedelta(days=300), core_clock.today())
        assert screen.screen(s, ADMIN, "t.flow", region="330203", day_from=far[0], day_to=far[1]) == \
            screen.reference(s, ADMIN, "t.flow", region="330203", day_from=far[0], day_to=far[1])


def test_an_empty_store_and_bad_requests_match_the_reference(demo, clock, monkeypatch):  # type: ignore[no-untyped-def]
    fakes.use(monkeypatch, *synthetic.ALL)
    with demo.unit_of_work() as s:
        for ind in synthetic.ALL:
            synthetic.fill(s, ind, [], day_from=core_clock.today(), day_to=core_clock.today())
            for region in (None, "330203001"):
                got = screen.screen(s, ADMIN, ind.key, region=region)
                assert got == screen.reference(s, ADMIN, ind.key, region=region)
        assert screen.screen(s, ADMIN, "t.flow").children == []  # no cell: no key, no node
        assert [a.value for a in screen.screen(s, ADMIN, "t.plain").children][:1] == [0.0]
        for bad, field in (({"region": "33x"}, "region"),
                           ({"day_from": core_clock.today(), "day_to": core_clock.today() - dt.timedelta(days=1)},
                            "from")):
            for fn in (screen.screen, screen.reference):
                with pytest.raises(Invalid) as e:
                    fn(s, ADMIN, "t.flow", **bad)  # type: ignore[operator]
                assert e.value.field == field
        with pytest.raises(access.Denied):
            screen.screen(s, LEADER, "t.flow", region="330205")


def test_a_cell_counts_in_its_region_and_every_region_above_it() -> None:
    assert store.nodes_of("330203001001") == ("330000", "330200", "330203", "330203001", "330203001001")
    assert store.nodes_of("330203") == ("330000", "330200", "330203", "330203~")
    assert store.nodes_of("330200") == ("330000", "330200", "330200~")
    for code in ("330203001001", "330203001", "330203", "330200", "330000", "330200001", "330200001001"):
        above = [n for n in store.nodes_of(code) if not n.endswith("~")]
        assert all(access.in_subtree(code, n) for n in above)
        candidates = {code[:n].ljust(6, "0") for n in (2, 4, 6)} | {code[:9], code[:12]}
        assert {c for c in candidates if access.in_subtree(code, c) and len(c) in (6, 9, 12)} <= set(above)


def test_a_department_value_no_head_can_hold_gets_no_rows_of_its_own() -> None:
    day = dt.date(2025, 6, 1)
    cells = [(day, "330203001001", (dept, "k0"), {"n": 1.0, "ok": 1.0})
             for dept in ("dept.nanmen.office", "", "*", "d" * 65)]
    rows = store.rollup_rows(synthetic.FLOW, cells)
    assert {r["department"] for r in rows} == {"*", "dept.nanmen.office"}
    every = {r["node"]: r for r in rows if r["department"] == "*"}
    assert set(every) == {"330000", "330200", "330203", "330203001", "330203001001"}
    assert {(r["cells"], r["m0"], r["m1"], r["m2"]) for r in every.values()} == {(4, 4.0, 4.0, 0.0)}
