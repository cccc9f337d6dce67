"""Straight check of the data-quality scores: every score read as a row, the latest kept."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from tests.cockpit.straight_util import SHANGHAI, Cells, Tally
from tongban.core.identity.models import Department
from tongban.datahub.models import Dataset
from tongban.governance.models import QualityScore


def quality(session, *, day_from: dt.date, day_to: dt.date) -> Cells:  # type: ignore[no-untyped-def]
    end = dt.datetime.combine(day_to + dt.timedelta(days=1), dt.time(), tzinfo=SHANGHAI)
    owner = dict(session.execute(select(Dataset.id, Dataset.owner_department_id)).all())
    regions = dict(session.execute(select(Department.id, Department.region_code)).all())
    latest: dict[str, QualityScore] = {}
    for q in session.scalars(select(QualityScore)):
        if q.at < end and (q.dataset_id not in latest or latest[q.dataset_id].id < q.id):
            latest[q.dataset_id] = q
    t = Tally(("score", "datasets"))
    for ds, q in latest.items():
        if ds not in owner or owner[ds] not in regions:
            continue
        t.add(day_to, regions[owner[ds]], (owner[ds], ds), score=q.score, datasets=1)
    return t.result()


STRAIGHT = {"governance.quality": quality}
