"""The steps every screening run shares, whatever its source (the registry's audited snapshot, or
views held as Parquet): the run's record, the snapshot's audit event, which subjects hold each
policy's benefit, and the region scope of the outcomes — applied to the outcomes *after* the
whole households were evaluated, so household aggregates and policy references see every member
wherever registered (docs/policy.md).

`runs.screen` is the pipeline; it takes a registry snapshot itself and hands a Parquet source to
`bulk.screen_parquet`. Both give their whole households' wide outcomes to the one outcome writer
(`writer.record`): outcomes file, counts, cases (one rule for a household's case), offers, alerts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from tongban.core import access
from tongban.core.audit.log import record
from tongban.core.timeutil import utcnow
from tongban.registry import reads
from tongban.screening.engine import Engine, PolicyInfo
from tongban.screening.models import ScreeningRun

SNAPSHOT_PURPOSE = "应享尽享主动筛查 (proactive entitlement screening)"


def col_enrolled(policy_id: str) -> str:
    return f"{policy_id}__enrolled"


def in_region(region: str | None, column: str = "region_code") -> pl.Expr:
    """The rows whose `column` lies in `region` (every row when None)."""
    if not region:
        return pl.lit(True)
    # A region the caller asked for (and was allowed: core.access.scope); the Polars form of `within`.
    return pl.col(column).cast(pl.String).str.starts_with(access.region_prefix(region))


def previous_run(session: Session, *, region: str | None, source: str | None) -> ScreeningRun | None:
    """The latest finished run of the same source (None: the registry) and region: change rules and
    "newly eligible" compare with it."""
    q = select(ScreeningRun).where(ScreeningRun.status == "done",
                                   ScreeningRun.source.is_(None) if source is None else ScreeningRun.source == source)
    q = q.where(ScreeningRun.region_code.is_(None) if region is None else ScreeningRun.region_code == region)
    return session.scalars(q.order_by(ScreeningRun.id.desc()).limit(1)).first()


def start_run(session: Session, *, principal: access.Principal, engine: Engine, req: Any, ids: list[str],
              region: str | None, as_of: dt.date, snapshot_id: str, source: str | None,
              previous: ScreeningRun | None, policy_hashes: dict[str, str]) -> ScreeningRun:
    """The run's row (status running): what it evaluates, over what, with which pack."""
    from tongban.core.packs.loader import current_pack_version

    pack = current_pack_version(session)
    run = ScreeningRun(status="running", as_of=as_of, backend=req.backend, region_code=region, policy_ids=ids,
                       pack_id=pack[0] if pack else None, pack_version=pack[1] if pack else None,
                       policy_hashes=policy_hashes,
                       parameters=engine.parameters_in_force(session, as_of=as_of), snapshot_id=snapshot_id,
                       source=source, previous_run_id=previous.id if previous else None, totals={},
                       started_by=principal.actor, department_id=principal.department_id, started_at=utcnow())
    session.add(run)
    session.flush()
    return run


def finish_run(session: Session, *, principal: access.Principal, run: ScreeningRun, totals: dict[str, Any]) -> None:
    """The run done: its totals, and the `screening.run` audit event (with the policies' digests)."""
    run.totals = totals
    run.status = "done"
    run.finished_at = utcnow()
    record(session, actor=principal.actor, actor_department=principal.department_id, action="screening.run",
           subject=f"screening_run:{run.id}", region_code=run.region_code,
           details={"policies": run.policy_ids, "backend": run.backend, "as_of": run.as_of.isoformat(),
                    "source": run.source or "registry", "snapshot": run.snapshot_id,
                    "pack_version": run.pack_version, "policy_hashes": run.policy_hashes, **totals})
    session.flush()


def record_snapshot(session: Session, *, principal: access.Principal, snapshot_id: str, region: str | None,
                    bases: dict[str, str], needed: set[tuple[str, str]], as_of: dt.date,
                    details: dict[str, Any]) -> None:
    """The audit event of the data a run read: datasets, basis, fields, as-of date, and what the
    source adds (row counts, a fingerprint of the subjects, the files)."""
    record(session, actor=principal.actor, actor_department=principal.department_id,
           action="screening.snapshot", subject=f"snapshot:{snapshot_id}", region_code=region,
           purpose=SNAPSHOT_PURPOSE,
           details={"datasets": sorted(bases), "basis": bases, "fields": sorted(f"{d}:{n}" for d, n in needed),
                    "as_of": as_of.isoformat(), **details})


def with_enrolment(session: Session, frame: pl.LazyFrame, policies: dict[str, PolicyInfo], as_of: dt.date,
                   households_of: Callable[[list[int]], Iterable[int]]) -> pl.LazyFrame:
    """`<policy>__enrolled` on a frame of persons (`id`, `household_id`): the person (or, for a
    household policy, anyone in the household, or the household itself) holds the policy's
    benefit on the as-of date. Row-wise: `households_of` gives the households of the few enrolled
    persons beforehand, so no window over the whole frame is needed."""
    codes = sorted({p.benefit for p in policies.values() if p.benefit})
    held: dict[tuple[str, str], list[int]] = {}
    for kind, code, sid in reads.enrolments_in_force(session, codes, as_of):
        held.setdefault((code, kind), []).append(sid)
    cols = []
    for pid, info in policies.items():
        persons = held.get((info.benefit or "", "person"), [])
        households = list(held.get((info.benefit or "", "household"), []))
        if info.unit == "household" and persons:  # one member's enrolment covers the household
            households += [int(h) for h in households_of(persons)]
        mine = (pl.col("id").cast(pl.Int64).is_in(pl.Series(persons, dtype=pl.Int64).implode())
                | pl.col("household_id").cast(pl.Int64).is_in(pl.Series(households, dtype=pl.Int64).implode())
                .fill_null(False))
        cols.append(mine.alias(col_enrolled(pid)))
    return frame.with_columns(cols)


def households_in(files: list[Path] | pl.DataFrame) -> Callable[[list[int]], list[int]]:
    """`households_of` for `with_enrolment` over a person view (Parquet files or a frame)."""
    def lookup(persons: list[int]) -> list[int]:
        lf = pl.scan_parquet(files) if isinstance(files, list) else files.lazy()
        return (lf.filter(pl.col("id").cast(pl.Int64).is_in(pl.Series(persons, dtype=pl.Int64).implode()))
                .select(pl.col("household_id").cast(pl.Int64)).drop_nulls().unique().collect()
                .to_series().to_list())
    return lookup
