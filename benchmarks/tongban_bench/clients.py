"""Many HTTP clients at once against one tongban: the load and booking benches' swarm."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any


async def swarm(base: str, clients: Sequence[Callable[[Any], Awaitable[None]]]) -> float:
    """Run every client coroutine at once over one shared `httpx.AsyncClient` (a connection
    each) and return the seconds they took together. Each client watches its own deadline."""
    import httpx

    async with httpx.AsyncClient(base_url=base, timeout=60, limits=httpx.Limits(max_connections=len(clients))) as http:
        started = time.perf_counter()
        await asyncio.gather(*(client(http) for client in clients))
        return time.perf_counter() - started
