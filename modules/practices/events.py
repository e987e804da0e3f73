"""What the practices module tells the rest of the platform: its only public contract to other modules."""

from __future__ import annotations

from uuid import UUID

from covenant.events.base import DomainEvent


class FichePublished(DomainEvent):
    """A good-practice fiche passed review and is now public (``city_id`` is the fiche's city, if any)."""

    name = "practices.fiche_published"
    description = "A good-practice fiche was reviewed and published in the public library."

    fiche_id: UUID
    title: str
    place_kind: str
    measures: list[str]
    country_code: str = ""
