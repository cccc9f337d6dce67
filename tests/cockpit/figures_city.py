"""A small city with a service history, for the tests of the slices' indicators and history parts:
the demo pack, a generated city whose households stand in their communities' cells, every
contributed `HistoryPart` in order, and rows of the slices that have no history part (sharing
requests, exchange calls, screening runs, offers and alerts, quality scores) made here — some at
a minute either side of Shanghai midnight."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select

from tongban.core import slices
from tongban.core.audit.log import record
from tongban.core.clock import SHANGHAI
from tongban.core.db import Database
from tongban.core.indicators import HISTORY, History
from tongban.core.keys import Keyring
from tongban.core.packs.loader import load_pack

PACK = Path(__file__).resolve().parents[2] / "packs" / "demo"
START = dt.date(2026, 3, 1)
END = dt.date(2026, 3, 31)


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    """A Shanghai wall-clock instant, in UTC."""
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=SHANGHAI).astimezone(dt.UTC)


def load_city(db: Database, *, persons: int = 1200, seed: int = 11) -> None:
    from tongban.registry import generator, loader

    with db.unit_of_work() as s:
        load_pack(s, PACK)
    shapes = loader.community_shapes(db)
    cfg = generator.CityConfig(persons=persons, seed=seed, communities=tuple(loader.community_codes(db)),
                               as_of=START, shapes=shapes)
    loader.load(db, generator.generate(cfg))


def run_history(db: Database, keys: Path, *, persons: int, seed: int = 11, rate: float = 3.0,
                start: dt.date = START, end: dt.date = END) -> dict[str, Any]:
    """Every contributed part, in order, in one unit of work; what each wrote, and the notes."""
    notes: dict[str, Any] = {"keyring": Keyring(keys, demo=True)}
    written: dict[str, int] = {}
    with db.unit_of_work() as s:
        history = History(session=s, seed=seed, start=start, end=end, persons=persons, rate=rate, notes=notes)
        for part in sorted(slices.contributed(HISTORY), key=lambda p: p.order):
            written[part.key] = part.write(history)
    return {"written": written, "notes": notes}


def other_rows(db: Database, *, seed: int = 11, start: dt.date = START, end: dt.date = END) -> None:
    """Rows of the slices without a history part, over the period: sharing requests, exchange
    calls (audit events), screening runs with counts, offers and alerts, quality scores."""
    from tongban.core.identity.models import Department
    from tongban.datahub.models import Dataset, SharingRequest
    from tongban.governance.models import QualityRun, QualityScore
    from tongban.registry.models import Person
    from tongban.screening.models import Offer, RiskAlert, ScreeningCount, ScreeningRun

    rng = random.Random(seed)
    days = (end - start).days + 1

    def when() -> dt.datetime:
        day = start + dt.timedelta(days=rng.randrange(days))
        if rng.random() < 0.2:  # a minute either side of Shanghai midnight
            return at(day, 0, 0) + dt.timedelta(minutes=rng.choice((-1, 1)))
        return at(day, rng.randrange(8, 20), rng.randrange(60))

    with db.unit_of_work() as s:
        departments = list(s.scalars(select(Department.id).order_by(Department.id)))
        datasets = list(s.scalars(select(Dataset.id).order_by(Dataset.id)))
        people = s.execute(select(Person.id, Person.region_code).order_by(Person.id).limit(300)).all()
        communities = sorted({r for _, r in people})
        for _ in range(40):
            created = when()
            status = rng.choice(("pending", "approved", "rejected"))
            s.add(SharingRequest(dataset_id=rng.choice(datasets), consumer_department_id=rng.choice(departments),
                                 fields=["id"], clear_fields=[], purpose="核验", legal_basis="法规", period_days=30,
                                 status=status, requested_by="account:1", created_at=created,
                                 decided_at=None if status == "pending" else created + dt.timedelta(hours=2)))
        for _ in range(60):
            dept = rng.choice(departments)
            event = record(s, actor=f"client:{dept}", actor_department=dept,
                           action=rng.choice(("exchange.query", "exchange.export", "exchange.consent_read",
                                              "person.read")), subject="dataset:x", details={})
            event.at = when()
        s.flush()
        policies = ("dibao", "disability_care")
        for n, finished in enumerate((at(start, 10), at(start + dt.timedelta(days=days // 2), 0) - dt.timedelta(minutes=1),
                                      at(end, 15))):
            run = ScreeningRun(status="done" if n != 2 else "failed" if rng.random() < 0 else "done", as_of=finished.date(),
                               backend="polars", policy_ids=list(policies), snapshot_id=f"snap{n}",
                               started_by="system", started_at=finished - dt.timedelta(minutes=5), finished_at=finished)
            s.add(run)
            s.flush()
            for policy in policies:
                for region in communities[: 3 + n]:
                    eligible = rng.randrange(0, 40)
                    enrolled = rng.randrange(0, eligible + 1)
                    s.add(ScreeningCount(run_id=run.id, policy_id=policy, region_code=region,
                                         subjects=eligible + rng.randrange(50, 200), eligible=eligible,
                                         enrolled=enrolled, not_enrolled=eligible - enrolled))
            for person_id, region in people[n * 60:(n + 1) * 60]:
                created = when()
                status = rng.choice(("sent", "seen", "applied", "declined", "expired"))
                s.add(Offer(run_id=run.id, policy_id=rng.choice(policies), person_id=person_id, channel=rng.choice(
                    ("inbox", "visit")), region_code=region, status=status, created_at=created,
                    expires_on=end + dt.timedelta(days=30)))
                if rng.random() < 0.5:
                    acted = created + dt.timedelta(days=rng.randrange(0, 20), minutes=rng.randrange(0, 1440))
                    alert_status = rng.choice(("open", "acknowledged", "closed"))
                    s.add(RiskAlert(run_id=run.id, rule_id=rng.choice(("risk_income_halved", "risk_large_medical_expense")),
                                    person_id=person_id, region_code=region, severity=rng.choice(("low", "high")),
                                    status=alert_status, explanation=[], created_at=created,
                                    acted_at=None if alert_status == "open" else acted))
        for n, finished in enumerate((at(start, 9), at(end, 0) - dt.timedelta(minutes=1), at(end, 0) + dt.timedelta(minutes=1))):
            qrun = QualityRun(status="done", requested_by="system", created_at=finished, finished_at=finished)
            s.add(qrun)
            s.flush()
            for ds in datasets[n:]:
                s.execute(insert(QualityScore), [dict(run_id=qrun.id, dataset_id=ds, score=round(rng.uniform(50, 100), 2),
                                                      rows=100, at=finished)])
