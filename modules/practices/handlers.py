"""What the practices module does when other parts of the platform report something."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from covenant.events.base import DomainEvent
from modules.practices import services


async def invite_new_signatory(event: DomainEvent, session: AsyncSession) -> None:
    """``city.signed``: invite the new signatory to every open campaign that takes new signatories.

    Idempotent: an invitation is unique per (campaign, city), and inviting an invited city does nothing.
    """
    city_id = event.city_id
    if city_id is None:
        return
    for campaign in await services.open_campaigns_for_new_signatories(session):
        await services.invite(session, campaign, [UUID(str(city_id))], actor=None)


async def recommend_after_assessment(event: DomainEvent, session: AsyncSession) -> None:
    """``assessment.submitted``: recommend peer fiches for the city's weakest dimensions.

    The assessment module is written in parallel: its payload is read defensively (``weakest_dimensions`` as a
    list of names, or the lowest ``dimension_scores``).
    """
    if event.city_id is None:
        return
    payload = event.model_dump()
    weakest = payload.get("weakest_dimensions") or []
    if not weakest and isinstance(payload.get("dimension_scores"), dict):
        scores = payload["dimension_scores"]
        weakest = sorted(scores, key=lambda name: scores[name])[:2]
    if isinstance(weakest, str):
        weakest = [weakest]
    year = payload.get("year") if isinstance(payload.get("year"), int) else None
    await services.recommend_peer_fiches(session, UUID(str(event.city_id)), [str(w) for w in weakest], year=year)


async def link_commitment_fiches(event: DomainEvent, session: AsyncSession) -> None:
    """``commitment.published``: relate published fiches to the commitment (idempotent, see the service)."""
    payload = event.model_dump()
    if not payload.get("commitment_id"):
        return
    await services.link_commitment(
        session,
        commitment_id=UUID(str(payload["commitment_id"])),
        city_id=UUID(str(event.city_id)) if event.city_id else None,
        title=str(payload.get("title", "")),
        priority=str(payload.get("priority", "")),
        modules=[str(m) for m in payload.get("modules") or []],
    )
