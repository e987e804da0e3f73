"""Redis stopped during a burst of state changes made through the web app: the web keeps answering, the
outbox holds the events, and once Redis is back every event is delivered, none twice.

The outage lasts 30 s (``COVENANT_FAULTS_REDIS_OUTAGE_SECONDS`` shortens it for a quick local run).
"""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any
from uuid import uuid4

import httpx
import pytest

from tests.faults.stack import Stack, eventually, post_notes

pytestmark = pytest.mark.faults

OUTAGE_SECONDS = float(os.environ.get("COVENANT_FAULTS_REDIS_OUTAGE_SECONDS", "30"))
TOTAL = 1000
BEFORE = 200
"""State changes made before Redis stops; the rest are spread over the outage."""
RETRYING = 5
"""Of those, how many have their first delivery end in a retry 5 s later."""


async def _paced(client: httpx.AsyncClient, payloads: list[dict[str, Any]], span: float) -> list[httpx.Response]:
    """Send the payloads evenly over ``span`` seconds (a few at a time), so the web is used all along."""
    gate = asyncio.Semaphore(8)
    start = time.monotonic()

    async def one(i: int, payload: dict[str, Any]) -> httpx.Response:
        await asyncio.sleep(max(0.0, start + i * span / len(payloads) - time.monotonic()))
        async with gate:
            return await client.post("/api/v1/faultmodule/notes", json=payload)

    return list(await asyncio.gather(*(one(i, p) for i, p in enumerate(payloads))))


async def test_redis_outage_during_a_burst_loses_nothing_and_delivers_nothing_twice(stack: Stack) -> None:
    stack.start_relay()
    stack.start_worker()
    base = await stack.start_web()
    cities = [str(uuid4()) for _ in range(50)]
    payloads = [{"label": f"note {i}", "city_id": cities[i % len(cities)]} for i in range(TOTAL)]
    # A few retries wait out their backoff in the worker's memory when Redis stops (Dramatiq drops those).
    # No city: a city's later events would wait for them, and that wait is not what is tested here.
    for payload in payloads[BEFORE - RETRYING : BEFORE]:
        payload |= {"retry_after_ms": 5000, "city_id": None}
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        before = await post_notes(client, payloads[:BEFORE])

        async def retries_held() -> bool:
            if len(list(stack.markers.glob("*.retried"))) < RETRYING:
                return False
            client = stack.redis.client()
            return sum(client.scard(k) for k in client.keys("dramatiq:__acks__.*.faultmodule.DQ")) >= RETRYING

        await eventually(retries_held, 60, "the worker holds the delayed retries")
        await asyncio.to_thread(stack.redis.stop)
        down_at = time.monotonic()
        during = await _paced(client, payloads[BEFORE:], span=OUTAGE_SECONDS * 0.8)
        ready = await client.get("/health/ready")
        assert ready.status_code == 503
        assert ready.headers.get("retry-after")
        assert ready.json()["checks"] == {"database": "ok", "broker": "unreachable"}
        # Everything recorded while Redis is away waits in the outbox.
        unpublished = await stack.scalar("SELECT count(*) FROM event_outbox WHERE published_at IS NULL")
        assert unpublished >= TOTAL - BEFORE
        await asyncio.sleep(max(0.0, down_at + OUTAGE_SECONDS - time.monotonic()))
        await asyncio.to_thread(stack.redis.start)
        assert time.monotonic() - down_at >= OUTAGE_SECONDS

        async def ready_again() -> bool:
            return (await client.get("/health/ready")).status_code == 200

        await eventually(ready_again, 30, "ready again once Redis is back")
    assert [r.status_code for r in before + during] == [201] * TOTAL

    report = await stack.wait_for_invariants(240, expected_events=TOTAL)
    assert report.duplicate_effects == 0
    assert sum(report.effects.values()) == 2 * TOTAL
