"""Proactive services' figures for the cockpit (`core.indicators`): what screening found per policy
(应享尽享: enrolled ÷ eligible), offers and their take-up, and 返贫 risk alerts raised, closed and
open — each a grouped query over the slice's own tables, by community."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from tongban.core.i18n import N_, gettext, pick
from tongban.core.indicator_sql import cells, local_day, utc_bounds
from tongban.core.indicators import Cell, Indicator
from tongban.screening.engine import policy_engine
from tongban.screening.models import Offer, RiskAlert, ScreeningCount, ScreeningRun


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.sum(case((condition, 1), else_=0))


def coverage(session: Session, *, day_from: dt.date, day_to: dt.date) -> list[Cell]:
    """Stock at the end of `day_to`: per policy and community, the counts of the latest finished
    run that screened them — screened, eligible, enrolled, eligible but not enrolled."""
    _, end = utc_bounds(day_to, day_to)
    latest = (select(ScreeningCount.policy_id, ScreeningCount.region_code,
                     func.max(ScreeningCount.run_id).label("run_id"))
              .join(ScreeningRun, ScreeningRun.id == ScreeningCount.run_id)
              .where(ScreeningRun.status == "done", ScreeningRun.finished_at < end)
              .group_by(ScreeningCount.policy_id, ScreeningCount.region_code).subquery())
    rows = session.execute(
        select(ScreeningCount.region_code, ScreeningCount.policy_id, func.sum(ScreeningCount.subjects),
               func.sum(ScreeningCount.eligible), func.sum(ScreeningCount.enrolled),
               func.sum(ScreeningCount.not_enrolled))
        .join(latest, and_(latest.c.run_id == ScreeningCount.run_id, latest.c.policy_id == ScreeningCount.policy_id,
                           latest.c.region_code == ScreeningCount.region_code))
        .group_by(ScreeningCount.region_code, ScreeningCount.policy_id))
    return cells(((day_to, *r) for r in rows), dimensions=1,
                 measures=("screened", "eligible", "enrolled", "not_enrolled"))


def offers(session: Session, *, day_from: dt.date, day_to: dt.date) -> list[Cell]:
    """Offers made (主动推送), by day made, community, policy and channel: how many, and how many
    of them were since taken up (applied) or declined."""
    start, end = utc_bounds(day_from, day_to)
    day = local_day(Offer.created_at)
    rows = session.execute(
        select(day, Offer.region_code, Offer.policy_id, Offer.channel, func.count(),
               _count_if(Offer.status == "applied"), _count_if(Offer.status == "declined"))
        .where(Offer.created_at >= start, Offer.created_at < end)
        .group_by(day, Offer.region_code, Offer.policy_id, Offer.channel))
    return cells(rows, dimensions=2, measures=("offers", "applied", "declined"))


def alerts(session: Session, *, day_from: dt.date, day_to: dt.date) -> list[Cell]:
    """返贫 risk alerts raised (by the day raised) and closed (by the day closed), by community,
    rule and severity."""
    start, end = utc_bounds(day_from, day_to)
    raised_day = local_day(RiskAlert.created_at)
    raised = session.execute(
        select(raised_day, RiskAlert.region_code, RiskAlert.rule_id, RiskAlert.severity, func.count())
        .where(RiskAlert.created_at >= start, RiskAlert.created_at < end)
        .group_by(raised_day, RiskAlert.region_code, RiskAlert.rule_id, RiskAlert.severity))
    closed_day = local_day(RiskAlert.acted_at)
    closed = session.execute(
        select(closed_day, RiskAlert.region_code, RiskAlert.rule_id, RiskAlert.severity, func.count())
        .where(RiskAlert.status == "closed", RiskAlert.acted_at >= start, RiskAlert.acted_at < end)
        .group_by(closed_day, RiskAlert.region_code, RiskAlert.rule_id, RiskAlert.severity))
    rows = [(*r[:4], r[4], 0) for r in raised] + [(*r[:4], 0, r[4]) for r in closed]
    return cells(rows, dimensions=2, measures=("raised", "closed"))


def alerts_open(session: Session, *, day_from: dt.date, day_to: dt.date) -> list[Cell]:
    """Stock at the end of `day_to`: risk alerts raised by then and not closed by then
    (acknowledged ones are still open), by community, rule and severity."""
    _, end = utc_bounds(day_to, day_to)
    rows = session.execute(
        select(RiskAlert.region_code, RiskAlert.rule_id, RiskAlert.severity, func.count())
        .where(RiskAlert.created_at < end, or_(RiskAlert.status != "closed", RiskAlert.acted_at >= end))
        .group_by(RiskAlert.region_code, RiskAlert.rule_id, RiskAlert.severity))
    return cells(((day_to, *r) for r in rows), dimensions=2, measures=("open",))


CHANNEL_LABELS = {"inbox": N_("Message to the resident"), "visit": N_("Home visit")}
SEVERITY_LABELS = {"high": N_("High"), "medium": N_("Medium"), "low": N_("Low")}


def value_labels(session: Session, dimension: str) -> dict[str, str]:
    """A policy or monitoring rule by its title (the loaded pack's), a channel and a severity in words."""
    if dimension in ("policy", "rule"):
        return {pid: pick(p.title) for pid, p in policy_engine().policies(session).items()}
    fixed = {"channel": CHANNEL_LABELS, "severity": SEVERITY_LABELS}.get(dimension, {})
    return {k: gettext(v) for k, v in fixed.items()}


_ALERT_DIMS = {"rule": N_("Monitoring rule"), "severity": N_("Severity")}

INDICATORS = (
    Indicator(key="screening.coverage", label=N_("Entitlements received (应享尽享)"),
              definition=N_("Of the people screening found eligible for a policy, the share already enrolled in "
                            "its benefit, from the latest finished screening run of each policy and community."),
              measures=("screened", "eligible", "enrolled", "not_enrolled"), show="ratio", of=("enrolled", "eligible"),
              compute=coverage, dimensions=("policy",), kind="stock", subjects="eligible", unit="%",
              measure_labels={"screened": N_("Screened"), "eligible": N_("Eligible"), "enrolled": N_("Enrolled"),
                              "not_enrolled": N_("Eligible, not enrolled")},
              dimension_labels={"policy": N_("Policy")}, value_labels=value_labels),
    Indicator(key="screening.offer_take_up", label=N_("Offer take-up"),
              definition=N_("Offers of a benefit made to eligible people (by message or home visit) that were "
                            "taken up with an application, out of the offers made that day."),
              measures=("offers", "applied", "declined"), show="ratio", of=("applied", "offers"), compute=offers,
              dimensions=("policy", "channel"), subjects="offers", unit="%",
              measure_labels={"offers": N_("Offers made"), "applied": N_("Taken up"), "declined": N_("Declined")},
              dimension_labels={"policy": N_("Policy"), "channel": N_("Channel")}, value_labels=value_labels),
    Indicator(key="screening.alerts", label=N_("Risk alerts raised"),
              definition=N_("返贫 risk alerts raised by the monitoring rules, by the day raised; the alerts closed, "
                            "by the day closed."),
              measures=("raised", "closed"), show="count", of=("raised",), compute=alerts,
              dimensions=("rule", "severity"), subjects="raised", unit=N_("alerts"),
              measure_labels={"raised": N_("Raised"), "closed": N_("Closed")}, dimension_labels=_ALERT_DIMS, value_labels=value_labels),
    Indicator(key="screening.alerts_open", label=N_("Risk alerts open"),
              definition=N_("返贫 risk alerts raised and not yet closed at the end of the day (acknowledged ones "
                            "count as open)."),
              measures=("open",), show="count", of=("open",), compute=alerts_open, dimensions=("rule", "severity"),
              kind="stock", subjects="open", unit=N_("alerts"), measure_labels={"open": N_("Open")},
              dimension_labels=_ALERT_DIMS, value_labels=value_labels),
)
