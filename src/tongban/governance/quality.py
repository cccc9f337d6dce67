"""The quality loop (问题数据 反馈 → 整改 → 核验): runs of the pack's rules, issues for the owner
department, their transitions, and per-dataset quality scores with history.

A run is a job (`quality.run`): every rule (or one dataset's) is evaluated set-wise
(governance.rules); a failing rule opens a quality issue for the dataset's owner department, or
updates the one still open for that rule; issues waiting for verification (核验) are re-checked.
Transitions are one transaction and one audit event each; staff act on their own department's
issues only.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tongban.core import access
from tongban.core.access import Principal
from tongban.core.audit.log import record
from tongban.core.errors import Conflict, Invalid, NotFound
from tongban.core.i18n import N_
from tongban.core.jobs.queue import enqueue
from tongban.core.jobs.registry import handler
from tongban.core.timeutil import utcnow
from tongban.datahub.catalog import fields_of
from tongban.datahub.models import Dataset
from tongban.governance.models import (
    SEVERITY_WEIGHTS,
    QualityIssue,
    QualityResult,
    QualityRule,
    QualityRun,
    QualityScore,
)
from tongban.governance.rules import Outcome, RuleSpec, evaluate

Progress = Callable[[str, int, int], None]  # (rule id, done, total)
progress_hook: ContextVar[Progress | None] = ContextVar("quality_progress", default=None)

ACTIONS = ("acknowledge", "submit", "verify")
# (status, action) → status. `verify` re-checks the rule: closed if it passes, else back to 整改.
TRANSITIONS = {("reported", "acknowledge"): "rectifying", ("rectifying", "submit"): "verifying",
               ("verifying", "verify"): "closed"}


# --- rules --------------------------------------------------------------------------------------


READERS = ("quality.run", "quality.rectify", "catalog.steward")


def get_rule(session: Session, rule_id: str, *, principal: Principal | None = None) -> QualityRule:
    if principal is not None:
        access.require_any(principal, *READERS)
    rule = session.get(QualityRule, rule_id)
    if rule is None:
        raise NotFound(N_("No such quality rule"), field="rule_id")
    return rule


def spec_of(session: Session, rule: QualityRule, ds: Dataset | None = None) -> RuleSpec:
    ds = ds or session.get_one(Dataset, rule.dataset_id)
    ref = (rule.definition.get("references") or {}).get("dataset")
    ref_table = session.get_one(Dataset, ref).table_name if ref else None
    grades = {f.name: (f.grade, f.mask) for f in fields_of(session, ds.id)}
    return RuleSpec(id=rule.id, kind=rule.kind, table=ds.table_name or "", definition=rule.definition,
                    update_frequency=ds.update_frequency, ref_table=ref_table, grades=grades)


def list_rules(session: Session, *, principal: Principal, dataset_id: str | None = None) -> list[QualityRule]:
    access.require_any(principal, *READERS)
    q = select(QualityRule).order_by(QualityRule.dataset_id, QualityRule.id)
    if dataset_id:
        q = q.where(QualityRule.dataset_id == dataset_id)
    return list(session.scalars(q))


# --- runs ---------------------------------------------------------------------------------------


def start_run(session: Session, *, actor: str, dataset_id: str | None = None,
              principal: Principal | None = None) -> tuple[QualityRun, int]:
    """Queue a run (of every rule, or of one dataset's) as a job; return it and the job's id.
    The API passes the caller (who needs quality.run); the CLI an actor."""
    if principal is not None:
        access.require(principal, "quality.run")
    if dataset_id is not None:
        if session.get(Dataset, dataset_id) is None:
            raise Invalid(N_("No such dataset"), field="dataset_id")
        if not session.scalar(select(func.count()).where(QualityRule.dataset_id == dataset_id)):
            raise Invalid(N_("This dataset has no quality rules"), field="dataset_id")
    run = QualityRun(dataset_id=dataset_id, status="queued", requested_by=actor)
    session.add(run)
    session.flush()
    job = enqueue(session, kind="quality.run", payload={"run_id": run.id}, max_attempts=2)
    return run, job.id


@handler("quality.run")
def run_job(session: Session, payload: dict[str, Any]) -> None:
    execute_run(session, run_id=int(payload["run_id"]))


def execute_run(session: Session, *, run_id: int) -> QualityRun:
    """Evaluate the run's rules, open or update issues, verify those waiting, store scores."""
    run = session.get_one(QualityRun, run_id)
    if run.status == "done":
        return run  # a retried job whose first attempt committed
    started = time.perf_counter()
    q = select(QualityRule, Dataset).join(Dataset, Dataset.id == QualityRule.dataset_id)
    if run.dataset_id:
        q = q.where(QualityRule.dataset_id == run.dataset_id)
    rows = [(r[0], r[1]) for r in session.execute(q.order_by(QualityRule.dataset_id, QualityRule.id))]
    hook = progress_hook.get()
    per_dataset: dict[str, list[tuple[QualityRule, Outcome]]] = {}
    failed_rules = 0
    for n, (rule, ds) in enumerate(rows, 1):
        t0 = time.perf_counter()
        outcome = evaluate(session, spec_of(session, rule, ds))
        session.add(QualityResult(run_id=run.id, rule_id=rule.id, dataset_id=ds.id, checked=outcome.checked,
                                  failed=outcome.failed, seconds=round(time.perf_counter() - t0, 3)))
        per_dataset.setdefault(ds.id, []).append((rule, outcome))
        failed_rules += 0 if outcome.passed else 1
        _reconcile(session, rule=rule, ds=ds, outcome=outcome, run=run)
        if hook:
            hook(rule.id, n, len(rows))
    now = utcnow()
    for ds_id, results in per_dataset.items():
        score, rows_checked = dataset_score(results)
        session.add(QualityScore(run_id=run.id, dataset_id=ds_id, score=score, rows=rows_checked, at=now))
    run.status, run.finished_at = "done", now
    run.rules, run.failed_rules = len(rows), failed_rules
    run.seconds = round(time.perf_counter() - started, 3)
    record(session, actor=run.requested_by, action="quality.run", subject=f"quality-run:{run.id}",
           details={"run": run.id, "dataset": run.dataset_id, "rules": run.rules, "failed_rules": failed_rules,
                    "seconds": run.seconds})
    session.flush()
    return run


def dataset_score(results: list[tuple[QualityRule, Outcome]]) -> tuple[float, int]:
    """Share of rows passing each rule, weighted by the rule's severity, as 0–100; and the rows checked."""
    total = weight = 0.0
    rows = 0
    for rule, out in results:
        w = SEVERITY_WEIGHTS[rule.severity]
        share = 1.0 if out.checked == 0 else 1.0 - out.failed / out.checked
        total += w * share
        weight += w
        if rule.kind != "freshness":
            rows = max(rows, out.checked)
    return (round(100.0 * total / weight, 2) if weight else 100.0), rows


def _open_issue(session: Session, rule_id: str) -> QualityIssue | None:
    return session.scalars(select(QualityIssue).where(QualityIssue.rule_id == rule_id,
                                                      QualityIssue.status != "closed")
                           .order_by(QualityIssue.id.desc()).limit(1)).first()


def _reconcile(session: Session, *, rule: QualityRule, ds: Dataset, outcome: Outcome, run: QualityRun) -> None:
    issue = _open_issue(session, rule.id)
    now = utcnow()
    if not outcome.passed:
        if issue is None:
            issue = QualityIssue(rule_id=rule.id, dataset_id=ds.id, department_id=ds.owner_department_id,
                                 status="reported", checked=outcome.checked, failed=outcome.failed,
                                 samples=outcome.samples, last_run_id=run.id, opened_at=now, updated_at=now)
            session.add(issue)
            session.flush()
            record(session, actor=run.requested_by, action="quality.issue.report", subject=f"quality-issue:{issue.id}",
                   department_id=ds.owner_department_id,
                   details={"issue": issue.id, "rule": rule.id, "dataset": ds.id, "failed": outcome.failed,
                            "checked": outcome.checked})
            return
        issue.checked, issue.failed, issue.samples = outcome.checked, outcome.failed, outcome.samples
        issue.last_run_id, issue.updated_at = run.id, now
        if issue.status == "verifying":
            _verified(session, issue, outcome, actor=run.requested_by, actor_department=None)
    elif issue is not None and issue.status == "verifying":
        _verified(session, issue, outcome, actor=run.requested_by, actor_department=None)


def _verified(session: Session, issue: QualityIssue, outcome: Outcome, *, actor: str,
              actor_department: str | None) -> None:
    """核验: the rule passes → closed; it still fails → back to 整改 with the new counts."""
    issue.verifications += 1
    issue.checked, issue.failed, issue.samples = outcome.checked, outcome.failed, outcome.samples
    issue.updated_at = utcnow()
    if outcome.passed:
        issue.status, issue.closed_at = "closed", issue.updated_at
    else:
        issue.status = "rectifying"
    record(session, actor=actor, actor_department=actor_department, action="quality.issue.verify",
           subject=f"quality-issue:{issue.id}", department_id=issue.department_id,
           outcome="passed" if outcome.passed else "failed",
           details={"issue": issue.id, "rule": issue.rule_id, "failed": outcome.failed, "status": issue.status})


# --- issues -------------------------------------------------------------------------------------


def list_issues(session: Session, *, principal: Principal, status: str | None = None,
                dataset_id: str | None = None) -> list[QualityIssue]:
    """Quality officers see every department's issues; other staff their own department's."""
    held = access.require_any(principal, "quality.run", "quality.rectify")
    if status is not None and status not in ("reported", "rectifying", "verifying", "closed", "open"):
        raise Invalid(N_("Unknown status"), field="status")
    q = select(QualityIssue)
    if held != "quality.run":
        q = q.where(access.scope(principal, department=QualityIssue.department_id))
    if status == "open":
        q = q.where(QualityIssue.status != "closed")
    elif status:
        q = q.where(QualityIssue.status == status)
    if dataset_id:
        q = q.where(QualityIssue.dataset_id == dataset_id)
    return list(session.scalars(q.order_by(QualityIssue.id)))


def get_issue(session: Session, *, principal: Principal, issue_id: int) -> QualityIssue:
    held = access.require_any(principal, "quality.run", "quality.rectify")
    issue = session.get(QualityIssue, issue_id)
    if issue is None:
        raise NotFound(N_("No such quality issue"))
    if held != "quality.run":
        access.require_department(principal, issue.department_id)
    return issue


def transition(session: Session, *, principal: Principal, issue_id: int, action: str,
               plan: str | None = None) -> QualityIssue:
    """One step of the loop: acknowledge with a plan (反馈 → 整改), submit for verification
    (整改 → 核验), verify (核验 → closed, or back to 整改 if the rule still fails)."""
    if action not in ACTIONS:
        raise Invalid(N_("Unknown action"), field="action")
    access.require_any(principal, "quality.rectify", "quality.run")
    issue = session.get(QualityIssue, issue_id, with_for_update=True)
    if issue is None:
        raise NotFound(N_("No such quality issue"))
    if action == "verify" and principal.has("quality.run"):
        pass  # the quality officer verifies any department's rectification
    else:
        access.require(principal, "quality.rectify")
        access.require_department(principal, issue.department_id)
    if (issue.status, action) not in TRANSITIONS:
        raise Conflict(N_("This step is not possible in the issue's current state"), field="action")
    if action == "acknowledge":
        text = (plan or "").strip()
        if len(text) < 4:
            raise Invalid(N_("Give a rectification plan (at least 4 characters)"), field="plan")
        issue.plan, issue.status, issue.updated_at = text[:2000], "rectifying", utcnow()
        record(session, actor=principal.actor, actor_department=principal.department_id,
               action="quality.issue.acknowledge", subject=f"quality-issue:{issue.id}",
               department_id=issue.department_id, details={"issue": issue.id, "rule": issue.rule_id})
    elif action == "submit":
        issue.status, issue.updated_at = "verifying", utcnow()
        record(session, actor=principal.actor, actor_department=principal.department_id,
               action="quality.issue.submit", subject=f"quality-issue:{issue.id}",
               department_id=issue.department_id, details={"issue": issue.id, "rule": issue.rule_id})
    else:
        rule = get_rule(session, issue.rule_id)
        _verified(session, issue, evaluate(session, spec_of(session, rule)), actor=principal.actor,
                  actor_department=principal.department_id)
    session.flush()
    return issue


# --- scores -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScorePoint:
    at: Any
    score: float
    run_id: int


def latest_scores(session: Session, dataset_ids: list[str] | None = None) -> dict[str, float]:
    """Each dataset's score after its latest run."""
    newest = select(QualityScore.dataset_id, func.max(QualityScore.id).label("id")).group_by(QualityScore.dataset_id)
    if dataset_ids is not None:
        newest = newest.where(QualityScore.dataset_id.in_(dataset_ids))
    sub = newest.subquery()
    rows = session.execute(select(QualityScore.dataset_id, QualityScore.score).join(sub, sub.c.id == QualityScore.id))
    return {d: s for d, s in rows}


def score_history(session: Session, dataset_id: str, limit: int = 60) -> list[ScorePoint]:
    rows = session.scalars(select(QualityScore).where(QualityScore.dataset_id == dataset_id)
                           .order_by(QualityScore.id.desc()).limit(limit))
    return [ScorePoint(r.at, r.score, r.run_id) for r in reversed(list(rows))]


def get_run(session: Session, *, principal: Principal, run_id: int) -> tuple[QualityRun, list[QualityResult]]:
    access.require_any(principal, "quality.run", "quality.rectify")
    run = session.get(QualityRun, run_id)
    if run is None:
        raise NotFound(N_("No such quality run"))
    results = list(session.scalars(select(QualityResult).where(QualityResult.run_id == run.id)
                                   .order_by(QualityResult.id)))
    return run, results
