"""A worker process killed with SIGKILL in the middle of a handler: the message comes back (Redis heartbeat
timeout) and its effect is applied exactly once."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from tests.faults.stack import Stack, eventually, post_notes

pytestmark = pytest.mark.faults

BEFORE = 20
AFTER = 20


async def test_worker_killed_mid_handler_gets_its_message_back_and_applies_it_once(stack: Stack) -> None:
    stack.start_relay()
    first = stack.start_worker("worker-1")
    base = await stack.start_web()
    async with httpx.AsyncClient(base_url=base, timeout=20) as client:
        responses = await post_notes(client, [{"label": f"before {i}"} for i in range(BEFORE)])
        held = await client.post("/api/v1/faultmodule/notes", json={"label": "held", "hold": True})
        responses += [held] + await post_notes(client, [{"label": f"after {i}"} for i in range(AFTER)])
    assert [r.status_code for r in responses] == [201] * (BEFORE + 1 + AFTER)
    note_id = held.json()["id"]
    event_id = await stack.scalar("SELECT event_id FROM event_outbox WHERE payload->>'note_id' = :n", n=note_id)
    marker = stack.markers / f"{event_id}.held"

    # The handler has written its effect in its open transaction and now sits there.
    async def handler_running() -> bool:
        return marker.exists()

    await eventually(handler_running, 30, "the held handler started")
    assert int(marker.read_text()) == first.pid
    effect = "SELECT count(*) FROM faultmodule_effect WHERE event_id = :e AND subscriber = 'faultmodule.mirror_note'"
    assert await stack.scalar(effect, e=event_id) == 0, "an uncommitted effect is visible"

    stack.kill("worker-1")  # SIGKILL: no shutdown, no ack, its transaction dies with its connection
    await asyncio.sleep(0.5)
    assert await stack.scalar(effect, e=event_id) == 0
    second = stack.start_worker("worker-2")

    report = await stack.wait_for_invariants(60, expected_events=BEFORE + 1 + AFTER)
    assert await stack.scalar(effect, e=event_id) == 1
    assert report.duplicate_effects == 0
    assert second.pid != first.pid
    assert int(marker.read_text()) == first.pid  # the marker of the first delivery, not rewritten
    # Redis holds nothing more for the fault queues: the redelivered message was acknowledged.
    for queue in ("faultmodule", "faultpeer"):
        waiting, held_messages = stack.redis.queue_lengths(queue)
        assert waiting == 0
        assert held_messages == 0, f"{queue}: {held_messages} messages still held"
