"""The relay killed between sending and marking: the rows stay unpublished, the next relay sends them again,
and the subscribers' inbox absorbs the duplicates."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from covenant.db import session_factory, transaction
from covenant.events.outbox import record
from tests.faults.stack import Stack, eventually

pytestmark = pytest.mark.faults

EVENTS = 50
QUEUES = ("faultmodule", "faultpeer")


async def test_relay_killed_between_send_and_mark_sends_again_and_the_inbox_absorbs_it(stack: Stack) -> None:
    from covenant_faultmodule.events import NoteRecorded
    from covenant_faultmodule.models import FaultNote

    async with transaction(session_factory(stack.engine)) as session:
        for i in range(EVENTS):
            note = FaultNote(label=f"note {i}")
            session.add(note)
            await session.flush()
            record(session, NoteRecorded(note_id=note.id, label=note.label))

    async with stack.engine.connect() as blocker:
        # SHARE lets the relay select its rows FOR UPDATE and send them, but not UPDATE them: the relay
        # stops exactly between "sent to the broker" and "marked published".
        await blocker.execute(text("LOCK TABLE event_outbox IN SHARE MODE"))
        stack.start_relay("relay-1")

        async def sent_and_waiting_to_mark() -> bool:
            sent = all(stack.redis.queue_lengths(q)[0] == EVENTS for q in QUEUES)
            waiting = await stack.scalar(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE wait_event_type = 'Lock' AND query ILIKE 'UPDATE event_outbox%'"
            )
            return sent and waiting == 1

        await eventually(sent_and_waiting_to_mark, 30, "the relay sent the batch and waits to mark it")
        stack.kill("relay-1")
        await blocker.rollback()

    # The killed relay's transaction never committed: every row is still unpublished.
    async def relay_transaction_gone() -> bool:
        return await stack.scalar("SELECT count(*) FROM pg_stat_activity WHERE query ILIKE 'UPDATE event_outbox%'") == 0

    await eventually(relay_transaction_gone, 30, "the killed relay's session ended")
    assert await stack.scalar("SELECT count(*) FROM event_outbox WHERE published_at IS NULL") == EVENTS

    stack.start_relay("relay-2")

    async def published() -> bool:
        return await stack.scalar("SELECT count(*) FROM event_outbox WHERE published_at IS NULL") == 0

    await eventually(published, 30, "the second relay published the outbox")
    # Every message is in the broker twice now.
    assert [stack.redis.queue_lengths(q)[0] for q in QUEUES] == [2 * EVENTS, 2 * EVENTS]

    stack.start_worker()
    report = await stack.wait_for_invariants(60, expected_events=EVENTS)
    assert report.duplicate_effects == 0
    assert sum(report.effects.values()) == 2 * EVENTS  # one per event and subscriber
    assert await stack.scalar("SELECT max(attempts) FROM event_outbox") == 1  # the first mark never happened

    # All 4 x EVENTS deliveries were consumed and acknowledged: the duplicates were received and skipped.
    async def drained() -> bool:
        return all(stack.redis.queue_lengths(q) == (0, 0) for q in QUEUES)

    await eventually(drained, 30, "the worker acknowledged every delivery, duplicates included")
