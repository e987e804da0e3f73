"""Event subscribers: recompute a city's suggested calls when its needs change."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from covenant.events.base import DomainEvent
from modules.funding import services


async def match_commitment(event: DomainEvent, session: AsyncSession) -> None:
    """``commitment.published``: the city's suggestions are recomputed (idempotent: a full replace)."""
    if event.city_id is not None:
        await services.recompute_city(session, event.city_id)


async def match_assessment(event: DomainEvent, session: AsyncSession) -> None:
    """``assessment.submitted`` (module not built yet): read defensively, keep the weak dimensions."""
    payload: dict[str, Any] = event.model_dump()
    payload |= getattr(event, "model_extra", None) or {}
    city_id = event.city_id or payload.get("city_id")
    if city_id is None:
        return
    city_id = city_id if isinstance(city_id, UUID) else UUID(str(city_id))
    weak = payload.get("weakest_dimensions") or payload.get("weak_dimensions") or []
    if isinstance(weak, dict):
        weak = list(weak)
    year = payload.get("year")
    await services.record_needs(session, city_id, [str(w) for w in weak], int(year) if year else None)
    await services.recompute_city(session, city_id)
