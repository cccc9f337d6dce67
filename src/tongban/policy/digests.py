"""Which policies a pack was loaded with: each policy's content digest is kept per pack version
when the pack is loaded (`record`), and read back for the current pack (`loaded`)."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from tongban.core.packs.loader import Changes, current_pack_version
from tongban.policy import model as m
from tongban.policy.models import PolicyDigest


def record(session: Session, *, pack_id: str, version: str, policies: m.PolicySet) -> Changes:
    """Keep the digest of each of `policies` for the pack version (replacing what it had for them)."""
    changes = Changes()
    digests = policies.digests()
    had: dict[str, str] = dict(session.execute(select(PolicyDigest.policy_id, PolicyDigest.digest).where(
        PolicyDigest.pack_id == pack_id, PolicyDigest.version == version,
        PolicyDigest.policy_id.in_(sorted(digests)))).all())
    for pid, digest in sorted(digests.items()):
        if had.get(pid) == digest:
            changes.count("unchanged")
            continue
        if pid in had:
            session.execute(delete(PolicyDigest).where(PolicyDigest.pack_id == pack_id,
                                                       PolicyDigest.version == version,
                                                       PolicyDigest.policy_id == pid))
        session.add(PolicyDigest(pack_id=pack_id, version=version, policy_id=pid, digest=digest))
        changes.count("updated" if pid in had else "created")
    session.flush()
    return changes


def loaded(session: Session) -> tuple[tuple[str, str] | None, dict[str, str]]:
    """The current pack (id, version) and its policies' digests (empty when none is loaded)."""
    pack = current_pack_version(session)
    if pack is None:
        return None, {}
    rows = session.execute(select(PolicyDigest.policy_id, PolicyDigest.digest).where(
        PolicyDigest.pack_id == pack[0], PolicyDigest.version == pack[1])).all()
    return pack, {str(pid): str(d) for pid, d in rows}
