"""Early warnings (预警): the pack's rules (`cockpit.yaml`, `warnings:`) evaluated on each refresh
over the internal figures. A rule reads one indicator at one region level over a window of days
(grouped by some of its dimensions) and fires where the figure is above or below a threshold, or
rose or fell by at least the threshold against the window before. Each warning names who can act
(a role, a department, or the department of the cell) and links to where they act."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from tongban.cases import engine as cases
from tongban.cases.models import Case
from tongban.cockpit import figures, store
from tongban.cockpit.models import CockpitSetting, CockpitSupervision, CockpitWarning
from tongban.core import access, clock
from tongban.core.errors import Conflict
from tongban.core.i18n import N_, pick
from tongban.core.identity.models import Department, Region, Role


def rules(session: Session) -> list[dict[str, Any]]:
    row = session.get(CockpitSetting, "rules")
    return list(row.value) if row is not None and row.value else []


def _fires(comparison: str, value: float | None, previous: float | None, threshold: float) -> bool:
    if value is None:
        return False
    if comparison == "above":
        return value > threshold
    if comparison == "below":
        return value < threshold
    if previous is None:
        return False
    return (previous - value >= threshold) if comparison == "fall" else (value - previous >= threshold)


def evaluate(session: Session) -> int:
    """Replace the warnings by those the rules raise now; how many were raised. A rule on an
    indicator no slice publishes (or a dimension it lacks) raises nothing (`tongban pack check`
    warns of it)."""
    session.execute(delete(CockpitWarning))
    found = store.indicators()
    today, now = clock.today(), clock.now()
    raised = 0
    for rule in rules(session):
        ind = found.get(rule["indicator"])
        by = tuple(rule.get("by") or ())
        if ind is None or not set(by) <= set(ind.dimensions):
            continue
        window = int(rule.get("window_days", 1))
        current = figures.Period(today - dt.timedelta(days=window - 1), today)
        sums = figures.grouped(session, ind, current, level=rule["level"], by=by)
        before: dict[tuple[str, tuple[str, ...]], dict[str, float]] = {}
        if rule["comparison"] in ("fall", "rise"):
            before = figures.grouped(session, ind, figures.Period(current.day_from - dt.timedelta(days=window),
                                                                  current.day_from - dt.timedelta(days=1)),
                                     level=rule["level"], by=by)
        act = rule["act"]
        for (region, key), measures in sorted(sums.items()):
            if ind.subjects is not None and measures[ind.subjects] < int(rule.get("min_base") or 0):
                continue  # a rate over a handful is no signal
            value = figures.shown(ind, measures)
            previous = figures.shown(ind, before.get((region, key)))
            if not _fires(rule["comparison"], value, previous, float(rule["threshold"])):
                continue
            values = dict(zip(by, key, strict=True))
            if act.get("role"):
                kind, actor = "role", act["role"]
            elif act.get("cell_department"):
                kind, actor = "department", values["department"]
            else:
                kind, actor = "department", act["department"]
            href = rule["href"].replace("{region}", region).replace("{department}", values.get("department", ""))
            session.add(CockpitWarning(
                rule=rule["id"], indicator=ind.key, region=region, key=store.encode_key(key), value=value,
                previous=previous, subjects=measures[ind.subjects] if ind.subjects else None,
                actor_kind=kind, actor=actor, href=href, raised_at=now))
            raised += 1
    session.flush()
    return raised


@dataclass
class Shown:
    """A warning as a caller sees it (the API's `WarningOut` is made from these fields). `id` names
    it until the next refresh; `supervised_case` is the open case of a 督办 raised from it."""

    id: int
    rule: str
    title: str
    indicator: str
    indicator_label: str
    region: str
    region_name: str
    details: list[str]
    value: str
    previous: str | None
    threshold: str
    comparison: str
    actor_kind: str
    actor: str
    actor_name: str
    href: str
    raised_at: dt.datetime
    supervised_case: int | None = None


def visible(session: Session, principal: access.Principal) -> list[Shown]:
    """The warnings in the caller's scope: a leader's region and below; a department head's those
    their department can act on or that are about their department."""
    from tongban.core.i18n import gettext

    scope = figures.scope_of(principal)
    by_rule = {r["id"]: r for r in rules(session)}
    found = store.indicators()
    threshold = int(store.settings(session)["min_count"])
    q = select(CockpitWarning).order_by(CockpitWarning.rule, CockpitWarning.region, CockpitWarning.id)
    if scope.region is not None and scope.department is None:
        q = q.where(access.within(CockpitWarning.region, scope.region))
    # A department head: their department's warnings wherever the rule reads it (a district's
    # department at the district level), none of another's.
    rows = session.scalars(q).all()
    names = {r.code: pick({"zh": r.name_zh, "en": r.name_en})
             for r in session.scalars(select(Region).where(Region.code.in_({w.region for w in rows})))}
    depts = {d.id: pick({"zh": d.name_zh, "en": d.name_en}) for d in session.scalars(select(Department))}
    roles = {r.id: pick({"zh": r.name_zh, "en": r.name_en}) for r in session.scalars(select(Role))}
    supervised = open_supervisions(session, rows)
    out = []
    for w in rows:
        rule, ind = by_rule.get(w.rule), found.get(w.indicator)
        if rule is None or ind is None:
            continue
        values = dict(zip(tuple(rule.get("by") or ()), json.loads(w.key), strict=True))
        if scope.department is not None and scope.department not in (
                values.get("department"), w.actor if w.actor_kind == "department" else None):
            continue
        small = ind.subjects is not None and w.subjects is not None and 0 < w.subjects < threshold
        details = [str(depts.get(v, v)) if d == "department" else str(v) for d, v in values.items()]
        hidden = gettext("fewer than %(n)d") % {"n": threshold}
        out.append(Shown(
            id=w.id, rule=w.rule, title=pick(rule["title"]), indicator=ind.key, indicator_label=gettext(ind.label),
            region=w.region, region_name=names.get(w.region, w.region), details=details,
            value=hidden if small else figures.formatted(ind, w.value),
            previous=None if w.previous is None or small else figures.formatted(ind, w.previous),
            threshold=figures.formatted(ind, float(rule["threshold"])) if rule["comparison"] in ("above", "below")
            else (f"{float(rule['threshold']) * 100:.1f}%" if ind.show == "ratio" else str(rule["threshold"])),
            comparison=rule["comparison"], actor_kind=w.actor_kind, actor=w.actor,
            actor_name=(roles if w.actor_kind == "role" else depts).get(w.actor, w.actor),
            href=w.href, raised_at=w.raised_at, supervised_case=supervised.get((w.rule, w.region, w.key))))
    return out


# --- 督办 from a warning --------------------------------------------------------------------------


def open_supervisions(session: Session, rows: Sequence[CockpitWarning]) -> dict[tuple[str, str, str], int]:
    """The latest open case of a 督办 raised from each of these warnings, by (rule, region, key)."""
    if not rows:
        return {}
    found: dict[tuple[str, str, str], int] = {}
    q = (select(CockpitSupervision.rule, CockpitSupervision.region, CockpitSupervision.key, CockpitSupervision.case_id)
         .join(Case, Case.id == CockpitSupervision.case_id)
         .where(Case.status.in_(cases.OPEN), CockpitSupervision.rule.in_({w.rule for w in rows}))
         .order_by(CockpitSupervision.id))
    for rule, region, key, case_id in session.execute(q):
        found[(rule, region, key)] = case_id
    return found


def supervised_by(session: Session, principal: access.Principal, case_id: int) -> bool:
    """Whether `principal` raised the 督办 that filed case `case_id` (the page's confirmation)."""
    return session.scalar(select(CockpitSupervision.id).where(
        CockpitSupervision.case_id == case_id, CockpitSupervision.supervised_by == principal.actor)) is not None


def supervise(session: Session, *, principal: access.Principal, warning_id: int, note: str | None,
              department_id: str | None = None) -> CockpitSupervision:
    """督办 from a warning: the case engine files a case of the pack's supervision category for the
    department the warning names, in its hands at once, and supervises it (its queue, head and the
    region's 督查室 are told); the supervision is kept beside the warnings, which each refresh
    replaces. Refused: a warning no longer raised (ids last until the next refresh), one naming a
    role rather than a department (or not the `department_id` the caller saw), one outside the
    caller's scope, and one already supervised by a case still open."""
    figures.scope_of(principal)  # fail closed: no cockpit scope, no 督办
    w = session.get(CockpitWarning, warning_id)
    shown = {s.id: s for s in visible(session, principal)} if w is not None else {}
    # A refresh replaces the warnings; SQLite may hand a replaced warning's id to another, so a
    # caller who names the department they saw is refused rather than pressing a different one.
    if w is None or warning_id not in shown or (department_id is not None and department_id != w.actor):
        raise Conflict(N_("This warning is no longer raised; reload the cockpit"), field="warning_id")
    if w.actor_kind != "department":
        raise Conflict(N_("This warning names a role, not a department: open where to act instead"),
                       field="warning_id")
    seen = shown[warning_id]
    if seen.supervised_case is not None:
        raise Conflict(N_("This warning is already supervised: case %(case)s is still open"), field="warning_id",
                       case=seen.supervised_case)
    case = cases.raise_supervision(session, principal=principal, department_id=w.actor, region_code=w.region,
                                   title=seen.title, details=[seen.region_name, *seen.details], note=note,
                                   link=w.href)
    row = CockpitSupervision(rule=w.rule, region=w.region, key=w.key, department_id=w.actor, case_id=case.id,
                             supervised_by=principal.actor, supervised_at=clock.now())
    session.add(row)
    session.flush()
    return row
