"""Events of the yearly monitoring cycle (DESIGN §3): the contract between the core and every module."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from covenant.events.base import DomainEvent
from covenant.events.catalogue import register_core_event


@register_core_event
class CycleOpened(DomainEvent):
    name = "cycle.opened"
    description = "The yearly monitoring cycle opened; every module opens its section for each active signatory."

    cycle_id: UUID
    year: int
    due_date: date
    required: dict[str, list[str]]
    """Per module slug, the city size classes whose section is required (empty list: not required)."""


@register_core_event
class SectionSubmitted(DomainEvent):
    name = "cycle.section_submitted"
    description = "A city completed a module's section of the yearly monitoring; the core updates its checklist."

    year: int
    module: str
    completeness: int = 100


@register_core_event
class CycleClosed(DomainEvent):
    name = "cycle.closed"
    description = "The yearly monitoring cycle closed; every module freezes its data for the year."

    cycle_id: UUID
    year: int
