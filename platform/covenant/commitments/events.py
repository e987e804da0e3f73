"""Events of the commitments part of the core (see the catalogue in DESIGN §3)."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from covenant.events.base import DomainEvent
from covenant.events.catalogue import register_core_event


@register_core_event
class CommitmentPublished(DomainEvent):
    name = "commitment.published"
    description = "A signatory published a commitment; modules may match calls, fiches or curricula to it."

    commitment_id: UUID
    title: str
    priority: str
    modules: list[str]
    due_date: date


@register_core_event
class CommitmentProgressed(DomainEvent):
    name = "commitment.progressed"
    description = "A progress update was added to a published commitment's timeline."

    commitment_id: UUID
    update_id: UUID
    percentage: int
    reported_on: date


@register_core_event
class CommitmentAchieved(DomainEvent):
    name = "commitment.achieved"
    description = "A published commitment was achieved (its progress reached 100 %)."

    commitment_id: UUID
    title: str
