"""The data hub's figures for the cockpit (`core.indicators`): sharing requests by status and
exchange calls per client department — each one grouped query, placed in the region of the
department that asked or called (the hub knows no finer place for them)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tongban.core.audit.models import AuditEvent
from tongban.core.i18n import N_, gettext, pick
from tongban.core.identity.models import Department
from tongban.core.indicator_sql import cells, local_day, utc_bounds
from tongban.core.indicators import Cell, Indicator
from tongban.datahub.models import Dataset, SharingRequest

# The audited reads through the exchange: a query by a client credential, a Parquet export, a
# staff read on a resident's consent. Each call writes one audit event.
EXCHANGE_ACTIONS = ("exchange.query", "exchange.export", "exchange.consent_read")


def sharing_requests(session: Session, *, day_from: dt.date, day_to: dt.date) -> list[Cell]:
    """Sharing requests made, by day made, the consumer department (and its region), the
    dataset asked for and the request's status now."""
    start, end = utc_bounds(day_from, day_to)
    day = local_day(SharingRequest.created_at)
    rows = session.execute(
        select(day, Department.region_code, SharingRequest.consumer_department_id, SharingRequest.dataset_id,
               SharingRequest.status, func.count())
        .join(Department, Department.id == SharingRequest.consumer_department_id)
        .where(SharingRequest.created_at >= start, SharingRequest.created_at < end)
        .group_by(day, Department.region_code, SharingRequest.consumer_department_id, SharingRequest.dataset_id,
                  SharingRequest.status))
    return cells(rows, dimensions=3, measures=("requests",))


def exchange_calls(session: Session, *, day_from: dt.date, day_to: dt.date) -> list[Cell]:
    """Exchange calls answered (audit outcome ok), by day, the calling department (and its
    region) and the kind of call."""
    start, end = utc_bounds(day_from, day_to)
    day = local_day(AuditEvent.at)
    rows = session.execute(
        select(day, Department.region_code, AuditEvent.actor_department, AuditEvent.action, func.count())
        .join(Department, Department.id == AuditEvent.actor_department)
        .where(AuditEvent.action.in_(EXCHANGE_ACTIONS), AuditEvent.outcome == "ok",
               AuditEvent.at >= start, AuditEvent.at < end)
        .group_by(day, Department.region_code, AuditEvent.actor_department, AuditEvent.action))
    return cells(rows, dimensions=2, measures=("calls",))


STATUS_LABELS = {"pending": N_("Pending"), "approved": N_("Approved"), "rejected": N_("Rejected")}
ACTION_LABELS = {"exchange.query": N_("Query"), "exchange.export": N_("Data export"),
                 "exchange.consent_read": N_("Read on a resident's consent")}


def value_labels(session: Session, dimension: str) -> dict[str, str]:
    """A dataset by its title, a request's status and a kind of call in words."""
    if dimension == "dataset":
        return {i: pick({"zh": zh, "en": en}) for i, zh, en in
                session.execute(select(Dataset.id, Dataset.title_zh, Dataset.title_en))}
    fixed = {"status": STATUS_LABELS, "action": ACTION_LABELS}.get(dimension, {})
    return {k: gettext(v) for k, v in fixed.items()}


INDICATORS = (
    Indicator(key="datahub.sharing_requests", label=N_("Sharing requests"),
              definition=N_("Requests by a department to use another's dataset (共享申请), by the day made, per "
                            "requesting department, dataset and status now (pending, approved, rejected)."),
              measures=("requests",), show="count", of=("requests",), compute=sharing_requests,
              dimensions=("department", "dataset", "status"), subjects=None, unit=N_("requests"),
              measure_labels={"requests": N_("Requests")},
              dimension_labels={"department": N_("Requesting department"), "dataset": N_("Dataset"),
                                "status": N_("Status")},
              value_labels=value_labels),
    Indicator(key="datahub.exchange_calls", label=N_("Exchange calls"),
              definition=N_("Reads of shared data through the exchange (queries, exports, reads on a resident's "
                            "consent) that were answered, by day, per calling department and kind of call."),
              measures=("calls",), show="count", of=("calls",), compute=exchange_calls,
              dimensions=("department", "action"), subjects=None, unit=N_("calls"),
              measure_labels={"calls": N_("Calls")},
              dimension_labels={"department": N_("Calling department"), "action": N_("Kind of call")},
              value_labels=value_labels),
)
