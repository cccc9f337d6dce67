"""The governance slice's figure for the cockpit (`core.indicators`): each dataset's latest data
quality score at the end of a day, per owner department — one grouped query. A dataset's place
is its owner department's region."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from tongban.core.i18n import N_, pick
from tongban.core.identity.models import Department
from tongban.core.indicator_sql import cells, utc_bounds
from tongban.core.indicators import Cell, Indicator
from tongban.datahub.models import Dataset
from tongban.governance.models import QualityScore


def quality(session: Session, *, day_from: dt.date, day_to: dt.date) -> list[Cell]:
    """Stock at the end of `day_to`: per owner department and dataset, the score (0–100) of the
    latest run that scored the dataset by then (the sum of scores and the count of datasets, so a
    department's or region's mean is their ratio)."""
    _, end = utc_bounds(day_to, day_to)
    latest = (select(QualityScore.dataset_id, func.max(QualityScore.id).label("id"))
              .where(QualityScore.at < end).group_by(QualityScore.dataset_id).subquery())
    rows = session.execute(
        select(Department.region_code, Dataset.owner_department_id, QualityScore.dataset_id,
               func.sum(QualityScore.score), func.count())
        .join(latest, and_(latest.c.id == QualityScore.id))
        .join(Dataset, Dataset.id == QualityScore.dataset_id)
        .join(Department, Department.id == Dataset.owner_department_id)
        .group_by(Department.region_code, Dataset.owner_department_id, QualityScore.dataset_id))
    return cells(((day_to, *r) for r in rows), dimensions=2, measures=("score", "datasets"))


def value_labels(session: Session, dimension: str) -> dict[str, str]:
    """A dataset by its title."""
    if dimension != "dataset":
        return {}
    return {i: pick({"zh": zh, "en": en}) for i, zh, en in
            session.execute(select(Dataset.id, Dataset.title_zh, Dataset.title_en))}


INDICATORS = (
    Indicator(key="governance.quality", label=N_("Data quality score"),
              definition=N_("Each dataset's latest quality score (0–100: the share of rows passing the quality "
                            "rules, weighted by severity), averaged over datasets, per owner department and dataset."),
              measures=("score", "datasets"), show="mean", of=("score", "datasets"), compute=quality,
              dimensions=("department", "dataset"), kind="stock", subjects=None, unit=N_("points"),
              measure_labels={"score": N_("Sum of scores"), "datasets": N_("Datasets scored")},
              dimension_labels={"department": N_("Owner department"), "dataset": N_("Dataset")},
              value_labels=value_labels),
)
