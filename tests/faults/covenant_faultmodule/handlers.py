"""The two subscribers. Their faults are steered through files in ``$FAULTMODULE_MARKERS`` because they run
in separate ``covenant worker`` processes."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import dramatiq
from sqlalchemy.ext.asyncio import AsyncSession

from covenant.events.base import DomainEvent

from .events import NoteRecorded
from .models import FaultEffect

HOLD_SECONDS = 600.0


def markers() -> Path:
    return Path(os.environ.get("FAULTMODULE_MARKERS", "."))


async def mirror_note(event: DomainEvent, session: AsyncSession) -> None:
    assert isinstance(event, NoteRecorded)
    retried = markers() / f"{event.event_id}.retried"
    if event.retry_after_ms and not retried.exists():
        retried.write_text(str(time.time()))
        raise dramatiq.Retry(delay=event.retry_after_ms)
    if event.poison:
        with (markers() / f"{event.event_id}.attempts").open("a") as log:
            log.write(f"{time.time()}\n")
        if not (markers() / "cured").exists():
            raise RuntimeError(f"poison note {event.note_id}")
    session.add(FaultEffect(event_id=event.event_id, subscriber="faultmodule.mirror_note", note_id=event.note_id))
    held = markers() / f"{event.event_id}.held"
    if event.hold and not held.exists():
        # The effect is written inside the open transaction; then the worker is killed right here.
        await session.flush()
        held.write_text(str(os.getpid()))
        await asyncio.sleep(HOLD_SECONDS)


async def tally_note(event: DomainEvent, session: AsyncSession) -> None:
    assert isinstance(event, NoteRecorded)
    session.add(FaultEffect(event_id=event.event_id, subscriber="faultpeer.tally_note", note_id=event.note_id))
