"""Delivery guarantees, on SQLite + in-process broker and on PostgreSQL + Redis (real worker, real relay)."""

from __future__ import annotations

import asyncio
from uuid import UUID, uuid4

import pytest
from covenant_testmodule.events import CountedInSequence, FlakyNoted, SomethingNoted
from covenant_testmodule.handlers import switches
from covenant_testmodule.models import Tally
from dramatiq import Message
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from covenant.events.consumer import message_body
from covenant.events.models import DeadLetter, DeadLetterStatus, InboxRecord, OutboxRecord
from covenant.events.outbox import record
from covenant.events.runtime import replay
from tests.fixtures.bus import Bus, eventually


async def _record(sessions: async_sessionmaker[AsyncSession], *events: object) -> None:
    async with sessions() as session, session.begin():
        for event in events:
            record(session, event)  # type: ignore[arg-type]


async def test_an_event_of_a_rolled_back_transaction_is_never_delivered(bus: Bus) -> None:
    city = uuid4()
    lost = SomethingNoted(city_id=city, note="rolled back")
    kept = SomethingNoted(city_id=city, note="committed")
    with pytest.raises(RuntimeError):  # noqa: PT012 - the rollback is what is under test
        async with bus.sessions() as session, session.begin():
            record(session, lost)
            await session.flush()
            raise RuntimeError("the state change failed")
    await _record(bus.sessions, kept)
    await bus.settle()
    await eventually(lambda: _is(bus.tallies(event_id=kept.event_id), 1))
    assert await bus.tallies(event_id=lost.event_id) == 0
    assert await bus.scalar(select(func.count()).select_from(OutboxRecord)) == 1


async def test_a_handler_failing_twice_then_succeeding_applies_once(bus: Bus) -> None:
    event = FlakyNoted(city_id=uuid4(), fail_times=2)
    await _record(bus.sessions, event)
    await bus.settle()
    await eventually(lambda: _is(bus.tallies(event_id=event.event_id), 1))
    await bus.settle()
    assert await bus.tallies(event_id=event.event_id) == 1
    assert switches.attempts[event.event_id] == 3
    assert await bus.scalar(select(func.count()).select_from(DeadLetter)) == 0


async def test_a_message_delivered_twice_applies_once(bus: Bus) -> None:
    event = SomethingNoted(city_id=uuid4(), note="twice")
    await _record(bus.sessions, event)
    await bus.settle()
    await eventually(lambda: _is(bus.tallies(event_id=event.event_id), 1))
    # The broker hands the same message over again (Redis redelivery after a heartbeat timeout).
    async with bus.sessions() as session:
        row = await session.scalar(select(OutboxRecord).where(OutboxRecord.event_id == event.event_id))
    assert row is not None
    calls = _count_applies(bus)
    bus.broker.enqueue(
        Message(
            queue_name="testmodule",
            actor_name="testmodule.note_something",
            args=(message_body(row, "testmodule.note_something"),),
            kwargs={},
            options={},
        )
    )
    await eventually(lambda: _is_async(lambda: calls.get(event.event_id, 0), 1))
    await bus.settle()
    assert await bus.tallies(event_id=event.event_id) == 1
    assert (
        await bus.scalar(select(func.count()).select_from(InboxRecord).where(InboxRecord.event_id == event.event_id))
        == 1
    )


async def test_a_handler_that_always_fails_is_dead_lettered_then_replayed_after_a_fix(bus: Bus) -> None:
    event = FlakyNoted(city_id=uuid4(), fail_times=-1)
    await _record(bus.sessions, event)
    await bus.settle()

    async def dead() -> DeadLetter | None:
        async with bus.sessions() as session:
            return await session.scalar(select(DeadLetter).where(DeadLetter.event_id == event.event_id))

    await eventually(lambda: _is_async_value(dead, lambda d: d is not None))
    letter = await dead()
    assert letter is not None
    assert letter.subscriber == "testmodule.apply_flaky"
    assert letter.status == DeadLetterStatus.DEAD
    assert "flaky handler fails" in letter.error
    assert "RuntimeError" in letter.traceback
    assert letter.attempts == 4  # the first try and three retries
    assert switches.attempts[event.event_id] == 4
    assert await bus.tallies(event_id=event.event_id) == 0

    switches.broken = False  # the fix is deployed
    await replay(bus.sessions, letter.id, broker=bus.broker, consumers=bus.consumers, through_broker=True)
    await bus.settle()
    await eventually(lambda: _is(bus.tallies(event_id=event.event_id), 1))
    await eventually(lambda: _is_async_value(dead, lambda d: d is not None and d.status == "resolved"))


async def test_a_relay_killed_between_sending_and_marking_resends_and_the_inbox_absorbs_it(bus: Bus) -> None:
    event = SomethingNoted(city_id=uuid4(), note="crash")
    await _record(bus.sessions, event)
    calls = _count_applies(bus)

    async def crash(session: AsyncSession, ids: list[int]) -> None:
        raise SystemExit("relay killed")  # after enqueue_many, before the rows are marked

    bus.relay._mark_published = crash  # type: ignore[method-assign]
    with pytest.raises(SystemExit):
        await bus.relay.publish_pending()
    async with bus.sessions() as session:
        row = await session.scalar(select(OutboxRecord).where(OutboxRecord.event_id == event.event_id))
    assert row is not None
    assert row.published_at is None

    del bus.relay._mark_published  # a fresh relay takes over
    await bus.settle()
    await eventually(lambda: _is_async(lambda: calls.get(event.event_id, 0), 2))
    await bus.settle()
    assert await bus.tallies(event_id=event.event_id) == 1
    async with bus.sessions() as session:
        row = await session.scalar(select(OutboxRecord).where(OutboxRecord.event_id == event.event_id))
    assert row is not None
    assert row.published_at is not None
    assert row.attempts == 1


async def test_events_of_one_city_are_applied_in_order_by_a_subscriber(bus: Bus) -> None:
    city, other = uuid4(), uuid4()
    count = 20
    for n in range(count):
        # One transaction per event, as services record them; another city interleaves.
        await _record(
            bus.sessions, CountedInSequence(city_id=city, sequence=n), CountedInSequence(city_id=other, sequence=n)
        )
        if n % 5 == 4:
            await bus.relay.drain()  # publish in several batches while the worker is busy
    await bus.settle()
    await eventually(lambda: _is(bus.tallies(city_id=city), count), timeout=60)
    await eventually(lambda: _is(bus.tallies(city_id=other), count), timeout=60)
    async with bus.sessions() as session:
        notes = (
            await session.execute(select(Tally.sequence, Tally.note).where(Tally.city_id.in_([city, other])))
        ).all()
    assert {note for _, note in notes} == {"in-order"}, sorted(notes)


async def test_recording_nudges_the_relay_after_commit(bus: Bus) -> None:
    from covenant.events import outbox

    task = asyncio.create_task(bus.relay.run())
    bus.relay.poll_seconds = 30  # only a nudge can wake it in time
    await asyncio.sleep(0.05)
    outbox.add_nudger(bus.relay.nudge)
    try:
        event = SomethingNoted(city_id=uuid4(), note="nudged")
        await _record(bus.sessions, event)
        await eventually(lambda: _is(bus.tallies(event_id=event.event_id), 1), timeout=10)
    finally:
        outbox.remove_nudger(bus.relay.nudge)
        bus.relay.stop()
        await asyncio.wait_for(task, 5)


# -- helpers ---------------------------------------------------------------------------------------
async def _is(value: object, expected: object) -> bool:
    return await value == expected  # type: ignore[misc]


async def _is_async(get: object, expected: object) -> bool:
    return get() == expected  # type: ignore[operator,no-any-return]


async def _is_async_value(get: object, test: object) -> bool:
    return bool(test(await get()))  # type: ignore[operator]


def _count_applies(bus: Bus) -> dict[UUID, int]:
    """Count every message a subscriber received (duplicates included), by event id."""
    calls: dict[UUID, int] = {}
    original = bus.consumers.apply

    async def counting(subscriber, body, **kwargs):  # type: ignore[no-untyped-def]
        event_id = UUID(body["event_id"])
        result = await original(subscriber, body, **kwargs)
        calls[event_id] = calls.get(event_id, 0) + 1
        return result

    bus.consumers.apply = counting  # type: ignore[method-assign]
    return calls
