from __future__ import annotations

from uuid import UUID

from covenant.events.base import DomainEvent


class NoteRecorded(DomainEvent):
    name = "faultmodule.note_recorded"
    description = "A note was recorded; both fault-test subscribers apply it once."

    note_id: UUID
    label: str = ""
    hold: bool = False
    """The mirror handler blocks on its first delivery (the test kills the worker meanwhile)."""
    poison: bool = False
    """The mirror handler fails until the test cures it (a file in the markers folder)."""
    retry_after_ms: int = 0
    """When set, the mirror handler asks for a retry this much later on its first delivery."""
