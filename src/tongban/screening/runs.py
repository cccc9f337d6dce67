"""Screening runs (筛查): an audited snapshot of the views, read on the department's grant;
the policies evaluated over it; per-subject outcomes to Parquet; per policy × community counts
and the eligible-but-not-enrolled cases in the database; offers and risk alerts made from them.

The caller's unit of work holds everything a run writes: a failed run leaves no run row, no
case, no offer (its Parquet folder is removed).
"""

from __future__ import annotations

import datetime as dt
import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from tongban.core import access, masking
from tongban.core.errors import Conflict, Invalid, NotFound
from tongban.core.i18n import N_
from tongban.core.identity.models import Region
from tongban.core.timeutil import today_local
from tongban.datahub.exchange import basis_for, subjects_fingerprint
from tongban.policy.compile_polars import col_amount, col_criteria, col_eligible
from tongban.registry import reads as registry_reads
from tongban.screening.engine import BACKENDS, OUTCOME_SCHEMA, Engine, PolicyInfo, policy_engine
from tongban.screening.models import ScreeningCount, ScreeningRun
from tongban.screening.pipeline import (
    finish_run,
    households_in,
    in_region,
    previous_run,
    record_snapshot,
    start_run,
    with_enrolment,
)
from tongban.screening.writer import HEADS_SCHEMA, long_outcomes, record


@dataclass(frozen=True)
class RunRequest:
    policy_ids: list[str] | None = None  # None: every policy and monitoring rule
    region_code: str | None = None  # None: the caller's region
    backend: str = "polars"
    as_of: dt.date | None = None  # None: today (Asia/Shanghai)
    source: str | None = None  # None or "registry": the registry; "parquet:DIR": views held as Parquet


def parse_date(value: str | None, *, field: str = "as_of") -> dt.date | None:
    if value is None or not str(value).strip():
        return None
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise Invalid(N_("Enter a date as YYYY-MM-DD"), field=field) from None


def screening_dir(var_dir: Path) -> Path:
    return Path(var_dir) / "screening"


def snapshot_dir(var_dir: Path, snapshot_id: str) -> Path:
    return screening_dir(var_dir) / "snapshots" / snapshot_id


def outcomes_path(var_dir: Path, run_id: int) -> Path:
    return screening_dir(var_dir) / "runs" / str(run_id) / "outcomes.parquet"


# --- checks ---------------------------------------------------------------------------------------


def check_request(session: Session, req: RunRequest, policies: dict[str, PolicyInfo],
                  engine: Engine | None = None) -> list[str]:
    """The policy ids to evaluate; the first bad input raises `Invalid` naming its field. An
    engine with no policies at all (a pack folder that is not there, e.g. `tongban screen` run
    from another folder with the default relative `TONGBAN_PACK_DIR`) is refused with `Conflict`
    naming the folder: a run of zero policies would look like a run that found nothing."""
    if not policies:
        folder = getattr(engine, "root", None)
        raise Conflict(N_("No policies to screen: the pack folder %(folder)s holds none. Run from the folder "
                          "that holds the pack, or set TONGBAN_PACK_DIR to it"), field="policy",
                       folder=str(Path(folder).resolve()) if folder is not None else "-")
    if req.backend not in BACKENDS:
        raise Invalid(N_("Choose one of the listed values"), field="backend")
    if req.region_code is not None and session.get(Region, req.region_code) is None:
        raise Invalid(N_("No such region"), field="region")
    if req.as_of is not None and req.as_of > today_local():
        raise Invalid(N_("The date is in the future"), field="as_of")
    ids = sorted(policies) if not req.policy_ids else list(dict.fromkeys(req.policy_ids))
    for pid in ids:
        if pid not in policies:
            raise Invalid(N_("No such policy"), field="policy")
    return ids


def require_screening(session: Session, principal: access.Principal, region_code: str | None,
                      fields: set[tuple[str, str]]) -> dict[str, str]:
    """Screening reads everyone's data in a region: staff with person.read, within their region,
    whose department owns or holds a grant covering *each field* the policies read (a grade-4
    field granted in clear). `fields` are catalog (dataset, field) pairs; refused naming the
    first field not covered. Returns the basis per dataset (for the audit event)."""
    access.require(principal, "person.read")
    access.require_region(principal, region_code or principal.region_code)
    bases = {ds: basis_for(session, principal=principal, dataset_id=ds, subject_id=None)
             for ds in sorted({d for d, _ in fields})}
    for ds, name in sorted(fields):
        basis = bases[ds]
        if not basis.computable(name):  # the release decision's rule for bulk computations
            raise access.Denied(N_("Your department's grant on %(dataset)s does not cover the field %(name)s, "
                                   "which the policies read"), principal=principal,
                                action=f"exchange:{ds}:{name}", field="policy", dataset=ds, name=name)
    return {ds: "owner" if b.owner else "grant" for ds, b in bases.items()}


# --- the run --------------------------------------------------------------------------------------


def screen(session: Session, *, principal: access.Principal, var_dir: Path, req: RunRequest,
           engine: Engine | None = None, progress: Callable[[str], None] | None = None,
           make_offers: bool = True) -> ScreeningRun:
    """Run a screening; return the run (status done). See the module docstring."""
    from tongban.screening.source import parse_source

    engine = engine or policy_engine()
    policies = engine.policies(session)
    ids = check_request(session, req, policies, engine)
    parquet = parse_source(req.source)
    region = req.region_code or access.home_region(principal)
    needed = engine.fields_needed(ids)
    bases = require_screening(session, principal, region, needed)
    hashes = engine.policy_hashes(session, ids)  # refused when the files are not the loaded pack's
    as_of = req.as_of or today_local()
    tick = progress or (lambda _step: None)
    if parquet is not None:
        from tongban.screening.bulk import screen_parquet

        return screen_parquet(session, principal=principal, var_dir=var_dir, req=req, engine=engine,
                              policies=policies, ids=ids, source=parquet, region=region, as_of=as_of,
                              bases=bases, needed=needed, tick=tick, hashes=hashes, make_offers=make_offers)

    tick("snapshot")
    previous = previous_run(session, region=region, source=None)
    prev_folder = snapshot_dir(var_dir, previous.snapshot_id) if previous else None
    snap = engine.snapshot(session, as_of=as_of, previous=prev_folder, policy_ids=ids)
    person = snap.frames["person"]
    if region:
        # Whole households: the in-region persons and every member of their households, wherever
        # registered, so household aggregates and policy references see them all; the outcomes
        # are scoped to the region after evaluating (pipeline.in_region).
        here = person.filter(in_region(region))
        households = here["household_id"].drop_nulls().unique().implode()
        person = person.filter(in_region(region) | pl.col("household_id").is_in(households).fill_null(False))
        snap.frames["person"] = person
        if "previous" in snap.frames:
            snap.frames["previous"] = snap.frames["previous"].filter(pl.col("id").is_in(person["id"].implode()))
        if "household" in snap.frames:
            snap.frames["household"] = snap.frames["household"].filter(pl.col("id").is_in(households))
    snapshot_id = uuid.uuid4().hex
    folder = snapshot_dir(var_dir, snapshot_id)
    subjects = sorted(int(i) for i in person["id"].to_list())
    run_id: int | None = None
    try:
        snap.write(folder)
        record_snapshot(session, principal=principal, snapshot_id=snapshot_id, region=region, bases=bases,
                        needed=needed, as_of=as_of,
                        details={"source": "registry", "views": {k: v.height for k, v in snap.frames.items()},
                                 "subjects": len(subjects), "subjects_hmac": subjects_fingerprint(subjects)})
        run = start_run(session, principal=principal, engine=engine, req=req, ids=ids, region=region, as_of=as_of,
                        snapshot_id=snapshot_id, source=None, previous=previous, policy_hashes=hashes)
        run_id = run.id

        tick("evaluate")
        raw = engine.evaluate(folder, policy_ids=ids, as_of=as_of, backend=req.backend, progress=tick,
                              session=session)
        wide = with_enrolment(session, _wide(_conform(raw), person, ids).lazy(), {p: policies[p] for p in ids},
                              as_of, households_in(person))
        totals = record(session, run=run, wide=wide, ids=ids, policies=policies, path=outcomes_path(var_dir, run.id),
                        previous_path=outcomes_path(var_dir, previous.id) if previous else None,
                        heads_of=lambda households: _heads(session, households), make_offers=make_offers,
                        engine=engine, alerts_folder=folder, tick=tick)
        finish_run(session, principal=principal, run=run, totals=totals)
    except BaseException:
        # The transaction rolls back; take the run's files with it.
        shutil.rmtree(folder, ignore_errors=True)
        if run_id is not None:
            shutil.rmtree(outcomes_path(var_dir, run_id).parent, ignore_errors=True)
        raise
    return run


def _conform(raw: pl.DataFrame) -> pl.DataFrame:
    missing = [c for c in OUTCOME_SCHEMA if c not in raw.columns]
    if missing:
        raise ValueError(f"the engine's outcomes lack {missing}")
    return raw.select([pl.col(c).cast(t) for c, t in OUTCOME_SCHEMA.items()])


def _wide(outcomes: pl.DataFrame, person: pl.DataFrame, ids: list[str]) -> pl.DataFrame:
    """The engine's long outcomes (a row per policy × person) as the writer's wide frame: a row
    per person read (whole households), each policy's eligible, criteria and amount."""
    wide = person.select(pl.col("id").cast(pl.Int64), pl.col("household_id").cast(pl.Int64),
                         pl.col("region_code").cast(pl.String))
    for pid in ids:
        part = outcomes.filter(pl.col("policy_id") == pid).select(
            pl.col("person_id").alias("id"), pl.col("eligible").alias(col_eligible(pid)),
            pl.col("criteria").alias(col_criteria(pid)), pl.col("amount_fen").alias(col_amount(pid)))
        wide = wide.join(part, on="id", how="left")
    return wide


def _heads(session: Session, households: list[int]) -> pl.DataFrame:
    """The registry's heads of `households` (`household.head_person_id`)."""
    heads = registry_reads.household_heads(session, households)
    return pl.DataFrame({"household_id": list(heads), "head_person_id": list(heads.values())},
                        schema=HEADS_SCHEMA)


# --- reading runs ---------------------------------------------------------------------------------


def get_run(session: Session, *, principal: access.Principal, run_id: int) -> ScreeningRun:
    access.require(principal, "person.read")
    run = session.get(ScreeningRun, run_id)
    if run is None:
        raise NotFound(N_("No such screening run"))
    access.require_region(principal, run.region_code or "")
    return run


def list_runs(session: Session, *, principal: access.Principal, limit: int = 20) -> list[ScreeningRun]:
    access.require(principal, "person.read")
    runs = session.scalars(select(ScreeningRun).order_by(ScreeningRun.id.desc()).limit(200))
    return [r for r in runs if access.can_act_in_region(principal, r.region_code or "")][:limit]


def counts(session: Session, *, principal: access.Principal, run: ScreeningRun,
           level: int = 6) -> list[dict[str, Any]]:
    """Counts per policy and region, summed up to regions of `level` digits (6 county, 9 street, 12 community)."""
    if level not in (6, 9, 12):
        raise Invalid(N_("Choose one of the listed values"), field="level")
    rows = session.scalars(select(ScreeningCount).where(ScreeningCount.run_id == run.id))
    agg: dict[tuple[str, str], dict[str, int]] = {}
    for r in rows:
        if not access.can_act_in_region(principal, r.region_code):
            continue
        key = (r.policy_id, r.region_code[:level])
        a = agg.setdefault(key, {"subjects": 0, "eligible": 0, "enrolled": 0, "not_enrolled": 0})
        for f in a:
            a[f] += getattr(r, f)
    names = dict(session.execute(select(Region.code, Region.name_zh)).all()) if agg else {}
    return [{"policy_id": p, "region_code": code, "region_name": names.get(code), **v}
            for (p, code), v in sorted(agg.items())]


def compare(session: Session, *, principal: access.Principal, var_dir: Path, run: ScreeningRun,
            previous: ScreeningRun | None = None) -> dict[str, list[dict[str, Any]]]:
    """Newly eligible since the previous run, and no longer eligible (退出 review: those still
    enrolled come first)."""
    previous = previous or (session.get(ScreeningRun, run.previous_run_id) if run.previous_run_id else None)
    if previous is None:
        return {"newly_eligible": [], "no_longer_eligible": []}
    now = long_outcomes(outcomes_path(var_dir, run.id)).collect()
    before = long_outcomes(outcomes_path(var_dir, previous.id)).collect()
    keys = ["policy_id", "person_id"]
    now_e, before_e = now.filter(pl.col("eligible")), before.filter(pl.col("eligible"))
    new = now_e.join(before_e.select(keys), on=keys, how="anti")
    gone = (before_e.select(*keys, "region_code").join(now_e.select(keys), on=keys, how="anti")
            .join(now.select(*keys, "enrolled"), on=keys, how="left"))

    def rows(frame: pl.DataFrame) -> list[dict[str, Any]]:
        return [{"policy_id": r["policy_id"], "person_id": r["person_id"], "region_code": r["region_code"],
                 "enrolled": bool(r["enrolled"]), "subject": masking.subject("person", r["person_id"])}
                for r in frame.iter_rows(named=True)
                if access.can_act_in_region(principal, r["region_code"] or "")]

    return {"newly_eligible": rows(new.sort(keys)),
            "no_longer_eligible": rows(gone.sort(pl.col("enrolled").fill_null(False), *keys, descending=[True, False,
                                                                                                        False]))}
