"""返贫风险预警: monitoring rules (policies with a severity, written over `previous.` fields —
income down by more than half, a large medical expense, a new disability, job loss, a death in
the household) raise alerts onto 民政's worklist, each with its explanation.
open → acknowledged → closed (or open → closed); each transition audited.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from tongban.core import access, masking
from tongban.core.audit.log import record
from tongban.core.errors import Conflict, Invalid, NotFound
from tongban.core.i18n import N_
from tongban.core.timeutil import utcnow
from tongban.datahub.exchange import basis_for
from tongban.screening.engine import Engine, PolicyInfo
from tongban.screening.models import RiskAlert, ScreeningRun

SEVERITIES = ("high", "medium", "low")
STATUSES = ("open", "acknowledged", "closed")
MOVES = {"acknowledge": ("open", "acknowledged"), "close": (None, "closed")}


def raise_alerts(session: Session, *, run: ScreeningRun, hits: pl.DataFrame, policies: dict[str, PolicyInfo],
                 engine: Engine, folder: Path) -> int:
    """One alert per rule × person hit, unless one is still open or acknowledged."""
    if hits.height == 0:
        return 0
    live = {(r, int(p)) for r, p in session.execute(select(RiskAlert.rule_id, RiskAlert.person_id)
                                                    .where(RiskAlert.status.in_(("open", "acknowledged"))))}
    raised = 0
    for row in hits.sort("policy_id", "person_id").iter_rows(named=True):
        key = (row["policy_id"], int(row["person_id"]))
        if key in live:
            continue
        explanation = engine.explain(folder, policy_id=key[0], person_id=key[1], as_of=run.as_of)
        session.add(RiskAlert(run_id=run.id, rule_id=key[0], person_id=key[1], region_code=row["region_code"],
                              severity=policies[key[0]].severity or "medium", status="open",
                              explanation=[c.to_json() for c in explanation], created_at=utcnow(), version=1))
        live.add(key)
        raised += 1
    session.flush()
    record(session, actor=run.started_by, actor_department=run.department_id, action="screening.alerts",
           subject=f"screening_run:{run.id}", region_code=run.region_code, details={"alerts": raised})
    return raised


def _require_worklist(session: Session, principal: access.Principal) -> None:
    """The worklist is 民政's: staff with person.read whose department reads the person view on a grant."""
    access.require(principal, "person.read")
    basis_for(session, principal=principal, dataset_id="ds.household", subject_id=None)


def worklist(session: Session, *, principal: access.Principal, status: str | None = "open",
             region_code: str | None = None, limit: int = 100) -> list[RiskAlert]:
    _require_worklist(session, principal)
    if status is not None and status not in STATUSES:
        raise Invalid(N_("Choose one of the listed values"), field="status")
    if not 1 <= limit <= 500:
        raise Invalid(N_("The limit must be between 1 and 500"), field="limit")
    if region_code is not None:
        access.require_region(principal, region_code)
    q = select(RiskAlert).where(access.scope(principal, region=RiskAlert.region_code))
    if region_code is not None:
        q = q.where(access.within(RiskAlert.region_code, region_code))
    if status is not None:
        q = q.where(RiskAlert.status == status)
    alerts = list(session.scalars(q.order_by(RiskAlert.id).limit(limit)))
    order = {s: i for i, s in enumerate(SEVERITIES)}
    return sorted(alerts, key=lambda a: (order.get(a.severity, 9), a.id))


def get_alert(session: Session, *, principal: access.Principal, alert_id: int) -> RiskAlert:
    _require_worklist(session, principal)
    alert = session.get(RiskAlert, alert_id)
    if alert is None:
        raise NotFound(N_("No such alert"))
    access.require_region(principal, alert.region_code)
    return alert


def act(session: Session, *, principal: access.Principal, alert_id: int, action: str, version: int | None,
        note: str | None = None) -> RiskAlert:
    """acknowledge (open → acknowledged) or close (open | acknowledged → closed, with a note)."""
    if action not in MOVES:
        raise Invalid(N_("Choose one of the listed values"), field="action")
    alert = get_alert(session, principal=principal, alert_id=alert_id)
    if version is None:
        raise Invalid(N_("Send the version you acted on"), field="version")
    note = (note or "").strip() or None
    if note is not None and len(note) > 500:
        raise Invalid(N_("This value is too long"), field="note")
    if action == "close" and note is None:
        raise Invalid(N_("Say how the alert was handled"), field="note")
    source, target = MOVES[action]
    if alert.status == "closed" or (source is not None and alert.status != source):
        raise Conflict(N_("This alert is not in a state that allows this"), field="status")
    if alert.version != version:
        raise Conflict(N_("The alert was changed meanwhile; reload it and try again"), field="version")
    alert.status = target
    alert.version += 1
    alert.acted_at = utcnow()
    alert.acted_by = principal.actor
    if note is not None:
        alert.note = note
    record(session, actor=principal.actor, actor_department=principal.department_id, action=f"alert.{action}",
           subject=f"risk_alert:{alert.id}", region_code=alert.region_code,
           details={"rule": alert.rule_id, "person": masking.subject("person", alert.person_id)})
    session.flush()
    return alert


def alert_dict(session: Session, alert: RiskAlert) -> dict[str, Any]:
    from tongban.screening.engine import CriterionResult
    from tongban.screening.explain import explain_texts

    return {"id": alert.id, "run_id": alert.run_id, "rule_id": alert.rule_id, "person_id": alert.person_id,
            "region_code": alert.region_code, "severity": alert.severity, "status": alert.status,
            "version": alert.version, "note": alert.note, "created_at": alert.created_at,
            "explanation": explain_texts(session, [CriterionResult.from_json(c) for c in alert.explanation])}
