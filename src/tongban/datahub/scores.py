"""Quality scores on the catalog: the data hub shows them, data governance (a slice above the hub)
computes them. Governance contributes its functions to the extension points below (core.slices);
the hub never imports it, and shows no score where no slice contributes one."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from tongban.core import slices

LATEST = "datahub.quality_scores"  # fn(session, dataset_ids) -> {dataset id: latest score}
HISTORY = "datahub.quality_history"  # fn(session, dataset_id) -> points with `.at` and `.score`


def latest(session: Session, dataset_ids: Sequence[str]) -> dict[str, float]:
    found: dict[str, float] = {}
    for provider in slices.contributed(LATEST):
        found.update(provider(session, list(dataset_ids)))
    return found


def history(session: Session, dataset_id: str) -> list[tuple[dt.datetime, Any]]:
    return [(p.at, p.score) for provider in slices.contributed(HISTORY) for p in provider(session, dataset_id)]
