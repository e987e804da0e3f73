"""What the funding module tells the platform: its only public contract to other modules."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from covenant.events.base import DomainEvent


class CallOpened(DomainEvent):
    name = "funding.call_opened"
    description = "A call for proposals opened; the cities it matches are told."

    call_id: UUID
    identifier: str
    title: str
    programme: str
    opening_date: date
    deadline: date
    matched_city_ids: list[UUID]


class CallClosing(DomainEvent):
    name = "funding.call_closing"
    description = "A call's deadline is near (N days, configurable); the cities it matches are reminded."

    call_id: UUID
    identifier: str
    title: str
    deadline: date
    days_left: int
    matched_city_ids: list[UUID]
