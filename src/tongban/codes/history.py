"""The codes part of the service history (`core.indicators.HISTORY`): subjects of each code type
(farms, products, domestic workers, talents, rented flats — the demo datasets, scaled to the city),
codes issued to most of them on days over the period, and a few revoked later in it.

Through the slice's own functions: `demo_data.generate` for the subjects, `service.sign_subjects`
and `service.store` for the signed codes (each signed with its issuing instant, so a scan verifies
it), `service.record_batch` for each type's one audit event. The signing key is the keyring's
that `History.notes["keyring"]` holds, else the one of `notes["settings"]` or of the configured
settings."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tongban.codes import demo_data, service
from tongban.codes.models import IssuedCode
from tongban.core.audit.log import record
from tongban.core.clock import SHANGHAI
from tongban.core.indicators import History, HistoryPart
from tongban.core.keys import Keyring, keyring_for

SUBJECTS_PER_RESIDENT = 0.005  # of each kind, at rate 1.0: 500 farms … for 100 000 residents
ISSUED_SHARE = 0.7  # of the pending subjects, issued a code during the period
REVOKED_SHARE = 0.03  # of the codes issued, revoked before the period ends
ACTOR = "system:history"


def _keyring(history: History) -> Keyring:
    notes = history.notes or {}
    if isinstance(notes.get("keyring"), Keyring):
        return notes["keyring"]
    if notes.get("settings") is not None:
        return keyring_for(notes["settings"])
    from tongban.core.config import get_settings

    return keyring_for(get_settings())


def _instant(day: dt.date, seconds: float) -> dt.datetime:
    return (dt.datetime(day.year, day.month, day.day, tzinfo=SHANGHAI) + dt.timedelta(seconds=seconds)).astimezone(dt.UTC)


def write(history: History) -> int:
    """Subjects, codes and revocations over [start, end]; returns rows written."""
    session: Session = history.session
    rng = random.Random(f"{history.seed}:codes")
    types = service.code_types(session)
    if not types:
        return 0
    per_kind = max(1, round(history.persons * SUBJECTS_PER_RESIDENT * history.rate))
    written = sum(demo_data.generate(session, dict.fromkeys(demo_data.KINDS, per_kind), seed=history.seed).values())
    session.flush()
    kid, key = _keyring(history).private_key("code")
    days = (history.end - history.start).days + 1
    end = _instant(history.end + dt.timedelta(days=1), 0)
    revoked = 0
    for ct in types:
        _, table = service.subject_dataset(session, ct)
        chosen = [s for s in service.pending_subjects(session, ct, table) if rng.random() < ISSUED_SHARE]
        if not chosen:
            continue
        issued_at = {s: _instant(history.start + dt.timedelta(days=rng.randrange(days)), rng.uniform(8 * 3600, 20 * 3600))
                     for s in chosen}
        rows = [r for s in chosen for r in service.sign_subjects(
            key, type_id=ct.id, issuer=ct.issuer_department_id, epoch=int(issued_at[s].timestamp()), kid=kid,
            subjects=[s])]
        service.store(session, rows)
        service.record_batch(session, actor=ACTOR, ct=ct, dataset_id=ct.dataset_id, kid=kid, subjects=chosen)
        written += len(rows)
        doomed = {s: issued_at[s] + (end - issued_at[s]) * rng.uniform(0.1, 0.9)
                  for s in chosen if rng.random() < REVOKED_SHARE}
        if doomed:
            ids = session.execute(select(IssuedCode.id, IssuedCode.subject_id).where(
                IssuedCode.type_id == ct.id, IssuedCode.subject_id.in_(sorted(doomed)))).all()
            changes: list[dict[str, Any]] = [
                {"id": i, "revoked_at": doomed[s], "revoked_by": ACTOR, "revoke_reason": "经核查不再符合发码条件"}
                for i, s in ids]
            session.execute(update(IssuedCode), changes)  # the ORM's bulk UPDATE by primary key
            revoked += len(changes)
    record(session, actor=ACTOR, action="history.codes", subject="history:codes",
           details={"seed": history.seed, "start": history.start.isoformat(), "end": history.end.isoformat(),
                    "rows": written, "revoked": revoked})
    return written


PART = HistoryPart(key="codes.issued", order=30, write=write)
