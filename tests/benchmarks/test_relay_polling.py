"""The relay's adaptive pause: while events keep coming it looks again within milliseconds, even though
nothing nudges it (a relay running on its own cannot hear another process's commits)."""

from __future__ import annotations

import asyncio
import time
from uuid import UUID

import pytest
from dramatiq.brokers.stub import StubBroker
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from benchmarks.events import Pinged, bench_registry
from covenant.events.catalogue import build_catalogue
from covenant.events.models import OutboxRecord
from covenant.events.outbox import record
from covenant.events.relay import Relay

pytestmark = pytest.mark.backend


async def record_one(sessions: async_sessionmaker[AsyncSession], sequence: int) -> UUID:
    event = Pinged(city_id=UUID(int=7), sequence=sequence)
    async with sessions() as session, session.begin():
        record(session, event)
    return event.event_id


async def published(sessions: async_sessionmaker[AsyncSession], event_id: UUID) -> bool:
    async with sessions() as session:
        at = await session.scalar(select(OutboxRecord.published_at).where(OutboxRecord.event_id == event_id))
        return at is not None


async def wait_published(sessions: async_sessionmaker[AsyncSession], event_id: UUID, limit: float) -> float:
    started = time.monotonic()
    while not await published(sessions, event_id):
        assert time.monotonic() - started < limit, f"not published within {limit} s"
        await asyncio.sleep(0.01)
    return time.monotonic() - started


async def test_a_busy_relay_looks_again_soon_and_an_idle_one_backs_off(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    broker = StubBroker()
    catalogue = build_catalogue(bench_registry())
    for queue in catalogue.queues:
        broker.declare_queue(queue)
    relay = Relay(sessions, broker, catalogue, poll_seconds=30.0, busy_seconds=0.02)
    task = asyncio.create_task(relay.run())
    try:
        await asyncio.sleep(0.2)  # the first, empty pass: the relay now waits up to 30 s
        first = await record_one(sessions, 1)
        relay.nudge()  # as an in-process commit would
        await wait_published(sessions, first, limit=10)
        # Nobody nudges now: the relay still finds the next events quickly, because it just sent one.
        for sequence in range(2, 5):
            event_id = await record_one(sessions, sequence)
            assert await wait_published(sessions, event_id, limit=5) < 5
        assert relay.pause < 1
        # Once the stream stops, empty passes double the pause towards poll_seconds.
        await asyncio.sleep(2.5)
        assert relay.pause >= 0.5
        late = await record_one(sessions, 9)
        relay.nudge()
        await wait_published(sessions, late, limit=10)
    finally:
        relay.stop()
        await asyncio.wait_for(task, timeout=10)
    assert len(broker.queues["bench"].queue) == 5
