"""A screening run over views held as Parquet (`tongban screen --source parquet:DIR`), sized for a
city. The policies' compiled plan is never collected: the whole households are evaluated lazily
and handed to the one outcome writer (`screening.writer`), which sinks the region's rows to the
run's outcomes file by Polars' streaming engine and writes counts, cases and offers exactly as it
does for a registry run.

A Parquet household view may carry `head_person_id` (as a registry export does): a household
policy's case is then the household's head, as in a registry run; without it, the member with the
lowest person id. Offers are made as in a registry run when the folder's `source.json` says its ids
are this registry's (`{"ids": "registry"}`, an export of it); a city of other ids gets none, so no
offer reaches a registered person who merely shares an id with it. Risk alerts need a snapshot to explain them from and are raised by registry
runs; a Parquet run counts the monitoring rules' hits in its totals.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy.orm import Session

from tongban.core import access
from tongban.screening.engine import Engine, PolicyInfo
from tongban.screening.models import ScreeningRun
from tongban.screening.pipeline import (
    finish_run,
    households_in,
    previous_run,
    record_snapshot,
    start_run,
    with_enrolment,
)
from tongban.screening.source import ParquetSource, evaluate_lazy, manifest
from tongban.screening.writer import (  # noqa: F401 - published here before the writer was one
    CASE_COLUMNS,
    CHUNK,
    HEADS_SCHEMA,
    LONG_SCHEMA,
    HeadsOf,
    case_frame,
    count_rows,
    insert_cases,
    insert_counts,
    long_outcomes,
    no_heads,
    policies_of,
    record,
    write_outcomes,
)


def source_label(source: ParquetSource) -> str:
    return f"parquet:{source.folder}"


def heads_in(source: ParquetSource) -> HeadsOf:
    """The heads the source's household view names (`head_person_id`), or none."""
    if "head_person_id" not in source.columns.get("household", frozenset()):
        return no_heads

    def lookup(household_ids: list[int]) -> pl.DataFrame:
        wanted = pl.Series(household_ids, dtype=pl.Int64).implode()
        return (pl.scan_parquet(source.files["household"])
                .select(pl.col("id").cast(pl.Int64).alias("household_id"), pl.col("head_person_id").cast(pl.Int64))
                .filter(pl.col("household_id").is_in(wanted) & pl.col("head_person_id").is_not_null()).collect())
    return lookup


def screen_parquet(session: Session, *, principal: access.Principal, var_dir: Path, req: Any, engine: Engine,
                   policies: dict[str, PolicyInfo], ids: list[str], source: ParquetSource, region: str | None,
                   as_of: dt.date, bases: dict[str, str], needed: set[tuple[str, str]],
                   tick: Callable[[str], None], hashes: dict[str, str], make_offers: bool = True) -> ScreeningRun:
    from tongban.screening.runs import outcomes_path, snapshot_dir

    tick("snapshot")
    found = manifest(source)
    snapshot_id = found["snapshot_id"]
    folder = snapshot_dir(var_dir, snapshot_id)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "manifest.json").write_text(json.dumps(found, ensure_ascii=False, indent=1), encoding="utf-8")
    label = source_label(source)
    previous = previous_run(session, region=region, source=label)
    run = start_run(session, principal=principal, engine=engine, req=req, ids=ids, region=region, as_of=as_of,
                    snapshot_id=snapshot_id, source=label, previous=previous, policy_hashes=hashes)
    path = outcomes_path(var_dir, run.id)
    try:
        tick("evaluate")  # the plan, sunk to the outcomes file: evaluation and outcomes in one streamed pass
        pset = engine.policy_set.subset(ids)  # type: ignore[attr-defined]
        # Every household whole; the writer keeps the rows of the region's persons after evaluating.
        wide = evaluate_lazy(pset, source, as_of=as_of, backend=req.backend)
        wide = with_enrolment(session, wide, {p: policies[p] for p in ids}, as_of, households_in(source.files["person"]))
        totals = record(session, run=run, wide=wide, ids=ids, policies=policies, path=path,
                        previous_path=outcomes_path(var_dir, previous.id) if previous else None,
                        heads_of=heads_in(source), make_offers=make_offers and source.registry_ids,
                        tick=tick)
        record_snapshot(session, principal=principal, snapshot_id=snapshot_id, region=region, bases=bases,
                        needed=needed, as_of=as_of,
                        details={"source": label, "files": len(found["files"]), "subjects": totals["subjects"]})
        finish_run(session, principal=principal, run=run, totals=totals)
    except BaseException:
        shutil.rmtree(path.parent, ignore_errors=True)
        raise
    return run
