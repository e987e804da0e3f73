"""What ai_review tells the rest of the platform (its only public contract)."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from covenant.events.base import DomainEvent


class TechnologyReviewed(DomainEvent):
    """A reviewer signed off a technology's review; ``city_id`` (envelope) is the city that uses it."""

    name = "ai_review.technology_reviewed"
    description = "A reviewer signed off a city's technology review with its AI Act risk class."

    technology_id: UUID
    category: str
    risk_class: str
    """prohibited, high, limited, minimal or not_ai."""
    signed_off_on: date
