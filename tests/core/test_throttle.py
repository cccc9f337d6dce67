"""core.throttle on its storages: memory:// always, Redis when one answers."""

from __future__ import annotations

import uuid

import pytest

from tongban.core.throttle import RateLimited, Throttle

REDIS = "redis://127.0.0.1:6379"


def _redis_answers() -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url(REDIS, socket_connect_timeout=0.5).ping())
    except Exception:
        return False


def _exercise(guard: Throttle) -> None:
    account = f"password:{uuid.uuid4().hex}"  # fresh keys: a shared Redis keeps old counts
    for _ in range(5):
        guard.check_login(account=account, source="203.0.113.7")
        guard.failed_login(account=account, source="203.0.113.7")
    with pytest.raises(RateLimited) as refused:
        guard.check_login(account=account, source="203.0.113.7")
    assert 0 < refused.value.retry_after <= 60
    guard.check_login(account=account, source="198.51.100.2")  # the owner, elsewhere: not counted


def test_memory_storage() -> None:
    _exercise(Throttle("memory://"))


def test_redis_storage_shared_by_two_processes() -> None:
    if not _redis_answers():
        pytest.skip(f"NO REDIS at {REDIS}: the Redis-backed throttle was NOT tested")
    account = f"password:{uuid.uuid4().hex}"
    one, two = Throttle(REDIS), Throttle(REDIS)  # two app processes sharing one Redis
    _exercise(one)
    for _ in range(5):
        one.failed_login(account=account, source="203.0.113.9")
    with pytest.raises(RateLimited):
        two.check_login(account=account, source="203.0.113.9")


def test_anonymous_refusals_are_throttled_per_source_at_the_configured_rate() -> None:
    guard = Throttle("memory://", anonymous="3/minute")
    for _ in range(3):
        guard.refused_anonymous(source="203.0.113.9")
    with pytest.raises(RateLimited) as refused:
        guard.refused_anonymous(source="203.0.113.9")
    assert 0 < refused.value.retry_after <= 60
    guard.refused_anonymous(source="198.51.100.3")  # another source is counted on its own
