"""The audit chain: sealing, verification, tampering caught, signed checkpoints, concurrency."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import delete, select, text, update

from tongban.core.audit import chain
from tongban.core.audit.log import record
from tongban.core.audit.models import AuditEvent, AuditHead
from tongban.core.keys import Keyring


@pytest.fixture()
def ring(tmp_path: Path) -> Keyring:
    return Keyring(tmp_path / "keys", demo=True)


@pytest.fixture()
def cp_file(tmp_path: Path, ring: Keyring):  # type: ignore[no-untyped-def]
    path = tmp_path / "audit" / "checkpoints.jsonl"
    chain._checkpointer = chain.Checkpointer(path=path, keyring=ring, min_interval=3600)
    yield path
    chain.disable_checkpoints()


def _append(db, n: int, **kw) -> None:  # type: ignore[no-untyped-def]
    for i in range(n):
        with db.unit_of_work() as s:
            record(s, actor="account:1", action="test.append", subject=f"thing:{i}",
                   details={"i": i, "note": f"第 {i} 条"}, **kw)


def _verify(db, cp_file, ring):  # type: ignore[no-untyped-def]
    return chain.verify(db.engine, checkpoint_file=cp_file, keyring=ring)


def test_events_are_sealed_after_commit_with_contiguous_seq(db, cp_file, ring):  # type: ignore[no-untyped-def]
    _append(db, 5)
    with db.unit_of_work() as s:
        seqs = s.scalars(select(AuditEvent.seq).order_by(AuditEvent.id)).all()
        head = s.get_one(AuditHead, True)
    assert seqs == [1, 2, 3, 4, 5]
    assert head.seq == 5
    v = _verify(db, cp_file, ring)
    assert v.ok and v.checked == 5 and v.unsealed == 0


def test_rolled_back_action_leaves_no_event(db, cp_file, ring):  # type: ignore[no-untyped-def]
    with pytest.raises(RuntimeError), db.unit_of_work() as s:
        record(s, actor="account:1", action="test.rollback")
        raise RuntimeError("boom")
    with db.unit_of_work() as s:
        assert s.scalars(select(AuditEvent)).all() == []


def test_changed_row_is_caught(db, cp_file, ring):  # type: ignore[no-untyped-def]
    _append(db, 6)
    with db.engine.begin() as conn:
        conn.execute(update(AuditEvent).where(AuditEvent.seq == 4).values(purpose="tampered"))
    v = _verify(db, cp_file, ring)
    assert not v.ok and v.first_bad_seq == 4


def test_deleted_middle_row_is_caught(db, cp_file, ring):  # type: ignore[no-untyped-def]
    _append(db, 6)
    with db.engine.begin() as conn:
        conn.execute(delete(AuditEvent).where(AuditEvent.seq == 3))
    v = _verify(db, cp_file, ring)
    assert not v.ok and v.first_bad_seq == 3


def test_swapped_rows_are_caught(db, cp_file, ring):  # type: ignore[no-untyped-def]
    _append(db, 6)
    with db.engine.begin() as conn:
        conn.execute(update(AuditEvent).where(AuditEvent.seq == 2).values(seq=-2))
        conn.execute(update(AuditEvent).where(AuditEvent.seq == 3).values(seq=2))
        conn.execute(update(AuditEvent).where(AuditEvent.seq == -2).values(seq=3))
    v = _verify(db, cp_file, ring)
    assert not v.ok and v.first_bad_seq == 2


def test_dropped_newest_rows_are_caught_by_the_signed_checkpoint(db, cp_file, ring):  # type: ignore[no-untyped-def]
    _append(db, 6)
    chain.seal(db.engine, force_checkpoint=True)
    # Drop the two newest events and rewind the head so the chain alone looks whole.
    with db.engine.begin() as conn:
        conn.execute(delete(AuditEvent).where(AuditEvent.seq >= 5))
        h4 = conn.execute(select(AuditEvent.hash).where(AuditEvent.seq == 4)).scalar_one()
        conn.execute(update(AuditHead).values(seq=4, hash=h4))
    assert chain.verify(db.engine, checkpoint_file=None, keyring=ring).ok  # the chain alone cannot tell
    v = _verify(db, cp_file, ring)
    assert not v.ok and v.first_bad_seq == 5


def test_dropped_newest_row_without_rewinding_head_is_caught(db, cp_file, ring):  # type: ignore[no-untyped-def]
    _append(db, 3)
    with db.engine.begin() as conn:
        conn.execute(delete(AuditEvent).where(AuditEvent.seq == 3))
    v = _verify(db, cp_file, ring)
    assert not v.ok and v.first_bad_seq == 3


def test_forged_checkpoint_signature_is_caught(db, cp_file, ring):  # type: ignore[no-untyped-def]
    _append(db, 2)
    chain.seal(db.engine, force_checkpoint=True)
    lines = cp_file.read_text().splitlines()
    forged = lines[-1].replace('"seq": 2', '"seq": 9')
    cp_file.write_text("\n".join([*lines, forged]) + "\n")
    v = _verify(db, cp_file, ring)
    assert not v.ok and "signature" in (v.reason or "")


def test_rotation_keeps_old_checkpoints_verifiable(db, cp_file, ring):  # type: ignore[no-untyped-def]
    _append(db, 2)
    chain.seal(db.engine, force_checkpoint=True)
    old = ring.active_kid("audit")
    new = ring.rotate("audit")
    assert new != old
    _append(db, 2)
    chain.seal(db.engine, force_checkpoint=True)
    kids = {line.split('"kid": "')[1].split('"')[0] for line in cp_file.read_text().splitlines()}
    assert kids == {old, new}
    assert _verify(db, cp_file, ring).ok


def test_verify_command_exit_codes(db, cli, tmp_path):  # type: ignore[no-untyped-def]
    chain.disable_checkpoints()
    _append(db, 4)
    r = cli("audit", "checkpoint")
    assert r.exit_code == 0, r.output
    r = cli("audit", "verify")
    assert r.exit_code == 0, r.output
    assert "4 events" in r.output
    with db.engine.begin() as conn:
        conn.execute(delete(AuditEvent).where(AuditEvent.seq == 4))
        h3 = conn.execute(select(AuditEvent.hash).where(AuditEvent.seq == 3)).scalar_one()
        conn.execute(update(AuditHead).values(seq=3, hash=h3))
    r = cli("audit", "verify")
    assert r.exit_code == 1
    assert "sequence 4" in r.output


def _rewrite_whole_chain(db) -> None:  # type: ignore[no-untyped-def]
    """What someone with write access to the database can do: change an event and recompute
    every hash after it, and the head, so that the chain alone is consistent again."""
    with db.engine.begin() as conn:
        conn.execute(update(AuditEvent).where(AuditEvent.seq == 1).values(actor="account:999"))
        prev = chain.GENESIS
        for row in conn.execute(select(AuditEvent).order_by(AuditEvent.seq)).all():
            h = chain.link_hash(prev, row, row.seq)
            conn.execute(update(AuditEvent).where(AuditEvent.id == row.id).values(prev_hash=prev, hash=h))
            prev = h
        conn.execute(update(AuditHead).values(hash=prev))


@pytest.mark.parametrize("checkpoints", ["deleted", "emptied"])
def test_verify_fails_on_a_rewritten_chain_without_its_checkpoints(db, cli, tmp_path, checkpoints):  # type: ignore[no-untyped-def]
    chain.disable_checkpoints()
    _append(db, 4)
    assert cli("audit", "checkpoint").exit_code == 0
    cp = tmp_path / "var" / "audit" / "checkpoints.jsonl"
    assert cp.read_text().strip()
    _rewrite_whole_chain(db)
    caught = cli("audit", "verify")
    assert caught.exit_code == 1 and "differs" in caught.output  # the signed checkpoint catches it
    if checkpoints == "deleted":
        cp.unlink()
    else:
        cp.write_text("")
    r = cli("audit", "verify")
    said = " ".join(r.output.split())  # the console wraps long lines
    assert r.exit_code == 1, said
    assert "NOT verified" in said and "no signed checkpoint" in said and "--allow-no-checkpoints" in said
    # Only the operator's explicit word accepts the chain on its hashes alone, and it says so loudly.
    allowed = cli("audit", "verify", "--allow-no-checkpoints")
    assert allowed.exit_code == 0, allowed.output
    said = " ".join(allowed.output.split())
    assert "WARNING: no signed checkpoint" in said and "intact: 4 events" in said


def test_verify_of_an_empty_chain_needs_no_checkpoint(db, cli):  # type: ignore[no-untyped-def]
    chain.disable_checkpoints()
    r = cli("audit", "verify")
    assert r.exit_code == 0, r.output


@pytest.mark.pg
def test_eight_threads_200_appends_leave_one_chain(db, cp_file, ring):  # type: ignore[no-untyped-def]
    if db.is_sqlite:
        pytest.skip("concurrent writers: PostgreSQL only")
    errors: list[BaseException] = []

    def worker(t: int) -> None:
        try:
            for i in range(200):
                with db.unit_of_work() as s:
                    record(s, actor=f"account:{t}", action="test.concurrent", details={"t": t, "i": i})
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors
    chain.seal(db.engine, force_checkpoint=True)
    with db.engine.connect() as conn:
        seqs = conn.execute(text("SELECT seq FROM audit_event ORDER BY seq")).scalars().all()
    assert seqs == list(range(1, 1601))
    v = _verify(db, cp_file, ring)
    assert v.ok and v.checked == 1600


def test_background_sealer_seals_in_batches(db, cp_file, ring):  # type: ignore[no-untyped-def]
    chain.set_seal_mode("background")
    try:
        _append(db, 20)
        chain.flush(db.engine)
    finally:
        chain.set_seal_mode("inline")
    with db.unit_of_work() as s:
        assert s.scalars(select(AuditEvent.seq).order_by(AuditEvent.seq)).all() == list(range(1, 21))
    assert _verify(db, cp_file, ring).ok


def test_bench_audit_quick_runs(cli):  # type: ignore[no-untyped-def]
    r = cli("bench", "audit", "--quick")
    assert r.exit_code == 0, r.output
    assert "submissions/s" in r.output and "yes" in r.output
