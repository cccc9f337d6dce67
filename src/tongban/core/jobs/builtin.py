"""Jobs every deployment runs."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from tongban.core.jobs.registry import handler, schedule


@handler("audit.seal")
def seal_audit(session: Session, payload: dict[str, Any]) -> None:
    """Backstop for the audit chain: seal anything left unsealed and write a checkpoint."""
    from tongban.core.audit.chain import seal

    bind = session.get_bind()
    seal(bind.engine if hasattr(bind, "engine") else bind, force_checkpoint=True)  # type: ignore[arg-type]


schedule("audit.seal", "audit.seal", interval_seconds=5)


@handler("jobs.purge")
def purge_jobs(session: Session, payload: dict[str, Any]) -> None:
    """Delete finished jobs past their retention (done after 7 days, dead after 90 by default)."""
    from tongban.core.jobs.queue import DEAD_RETENTION_DAYS, DONE_RETENTION_DAYS, purge

    purge(session, done_days=int(payload.get("done_days", DONE_RETENTION_DAYS)),
          dead_days=int(payload.get("dead_days", DEAD_RETENTION_DAYS)))


schedule("jobs.purge", "jobs.purge", interval_seconds=3600)


@handler("audit.denials")
def close_denial_windows(session: Session, payload: dict[str, Any]) -> None:
    """Close the windows of coalesced refusals whose minute is over: one chained event each."""
    from tongban.core.audit.denials import close_expired

    close_expired(session)


schedule("audit.denials", "audit.denials", interval_seconds=60)
