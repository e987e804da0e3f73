"""The consumer's claim: one transaction per message, per-city order, duplicates, replays and dropped
connections — on SQLite + in-process broker and on PostgreSQL + Redis."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from uuid import uuid4

import pytest
from covenant_testmodule.events import SomethingNoted
from covenant_testmodule.models import Tally
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from covenant.events.consumer import Consumers, OutOfOrder, message_body
from covenant.events.models import DeadLetter, DeadLetterStatus, InboxRecord, OutboxRecord
from covenant.events.outbox import record
from tests.fixtures.bus import Bus, eventually

SUBSCRIBER = "testmodule.note_something"


@pytest.fixture
async def inline(bus: Bus) -> AsyncIterator[Consumers]:
    """Consumers applying messages on the test's loop (the worker's own consumer runs on its loop)."""
    consumers = Consumers(bus.consumers.settings, bus.catalogue, bus.broker)
    yield consumers
    await consumers.dispose()


async def _record(sessions: async_sessionmaker[AsyncSession], *events: SomethingNoted) -> list[dict[str, Any]]:
    """Record the events in one transaction; their message bodies for the subscriber, in outbox order."""
    async with sessions() as session, session.begin():
        rows = [record(session, event) for event in events]
        await session.flush()
        return [message_body(row, SUBSCRIBER) for row in rows]


async def _two_events(bus: Bus, city: Any, *notes: str) -> list[dict[str, Any]]:
    """Two successive events of ``city`` with these notes: their message bodies."""
    return await _record(bus.sessions, *(SomethingNoted(city_id=city, note=n, sequence=i) for i, n in enumerate(notes)))


async def _applied_sequences(bus: Bus, city: Any) -> list[int]:
    """The sequences of a city's events in the order the subscriber claimed them."""
    async with bus.sessions() as session:
        rows = await session.execute(
            select(Tally.sequence)
            .join(InboxRecord, InboxRecord.event_id == Tally.event_id)
            .where(Tally.city_id == city, InboxRecord.subscriber == SUBSCRIBER)
            .order_by(InboxRecord.id)
        )
        return [sequence for (sequence,) in rows]


async def test_a_burst_of_one_city_is_applied_once_each_and_in_order(bus: Bus) -> None:
    city = uuid4()
    count = 40
    deferred: list[dict[str, Any]] = []
    actor = bus.consumers.actors[SUBSCRIBER]
    send = actor.send_with_options

    def counting_send(*, args: tuple[Any, ...], **options: Any) -> Any:
        deferred.append(args[0])
        return send(args=args, **options)

    actor.send_with_options = counting_send  # type: ignore[method-assign]
    await _record(bus.sessions, *(SomethingNoted(city_id=city, note="burst", sequence=n) for n in range(count)))
    await bus.settle()

    async def all_applied() -> bool:
        return len(await _applied_sequences(bus, city)) == count

    await eventually(all_applied, timeout=60)
    await bus.settle()
    assert await _applied_sequences(bus, city) == list(range(count))
    # Waiting in place for the event being applied replaces most re-sends.
    assert len(deferred) < count // 4, [body["event"]["sequence"] for body in deferred]


async def test_a_message_ahead_of_its_city_waits_then_applies_after_its_predecessor(
    bus: Bus, inline: Consumers
) -> None:
    city = uuid4()
    first, second = await _two_events(bus, city, "first", "second")
    subscriber = bus.catalogue.subscribers[SUBSCRIBER]
    with pytest.raises(OutOfOrder):
        await inline.apply(subscriber, second)
    assert await bus.tallies(city_id=city) == 0
    assert await inline.apply(subscriber, first)
    assert await inline.apply(subscriber, second)
    assert not await inline.apply(subscriber, second)  # a duplicate delivery
    assert not await inline.apply(subscriber, first, check_order=False)
    assert await _applied_sequences(bus, city) == [0, 1]


async def test_a_dead_lettered_predecessor_no_longer_holds_its_city_and_its_replay_resolves_it(
    bus: Bus, inline: Consumers
) -> None:
    city = uuid4()
    first, second = await _two_events(bus, city, "poison", "after")
    async with bus.sessions() as session, session.begin():
        letter = DeadLetter(
            event_id=first["event_id"],
            event_name=first["name"],
            subscriber=SUBSCRIBER,
            queue="testmodule",
            message=first,
            error="RuntimeError: boom",
        )
        session.add(letter)
    subscriber = bus.catalogue.subscribers[SUBSCRIBER]
    assert await inline.apply(subscriber, second)
    async with bus.sessions() as session:
        assert (await session.get_one(DeadLetter, letter.id)).status == DeadLetterStatus.DEAD
    assert await inline.apply(subscriber, first, check_order=False)  # the replay
    async with bus.sessions() as session:
        assert (await session.get_one(DeadLetter, letter.id)).status == DeadLetterStatus.RESOLVED
    assert await bus.tallies(city_id=city) == 2


async def test_a_connection_the_database_dropped_is_replaced_without_failing_the_message(
    bus: Bus, inline: Consumers
) -> None:
    async with bus.sessions() as session:
        if session.bind.dialect.name != "postgresql":
            pytest.skip("only a server can drop a pooled connection")
    city = uuid4()
    first, second = await _two_events(bus, city, "before", "after")
    subscriber = bus.catalogue.subscribers[SUBSCRIBER]
    assert await inline.apply(subscriber, first)  # its connection now waits in the pool
    async with bus.sessions() as session, session.begin():
        await session.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
    assert await inline.apply(subscriber, second)
    assert await _applied_sequences(bus, city) == [0, 1]
    async with bus.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(OutboxRecord)) == 2
