from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import get, post
from pydantic import BaseModel, Field
from sqlalchemy import func, select

from covenant.events.outbox import record
from covenant.plugins import ActionModule
from covenant.web.deps import DbSession

from .events import NoteRecorded
from .handlers import mirror_note, tally_note
from .models import FaultNote


class NoteInput(BaseModel):
    label: str = Field(default="", max_length=200)
    city_id: UUID | None = None
    hold: bool = False
    poison: bool = False
    retry_after_ms: int = Field(default=0, ge=0, le=600_000)


@post("/notes", name="faultmodule:api:notes", status_code=201)
async def add_note(db_session: DbSession, data: NoteInput) -> dict[str, Any]:
    """One state change and its event, in the request's one transaction."""
    note = FaultNote(label=data.label, city_id=data.city_id)
    db_session.add(note)
    await db_session.flush()
    record(
        db_session,
        NoteRecorded(
            note_id=note.id,
            label=data.label,
            city_id=data.city_id,
            hold=data.hold,
            poison=data.poison,
            retry_after_ms=data.retry_after_ms,
        ),
    )
    return {"id": str(note.id)}


@get("/notes/count", name="faultmodule:api:count")
async def count_notes(db_session: DbSession) -> dict[str, int]:
    return {"notes": int(await db_session.scalar(select(func.count()).select_from(FaultNote)) or 0)}


module = ActionModule(
    slug="faultmodule",
    title="Fault module",
    action=9,
    summary="Only in the fault tests.",
    api_route_handlers=[add_note, count_notes],
    publishes=[NoteRecorded],
    subscriptions={"faultmodule.note_recorded": mirror_note},
    models=["covenant_faultmodule.models"],
)

peer = ActionModule(
    slug="faultpeer",
    title="Fault peer",
    action=9,
    summary="Only in the fault tests: a second subscriber, on its own queue.",
    subscriptions={"faultmodule.note_recorded": tally_note},
)
