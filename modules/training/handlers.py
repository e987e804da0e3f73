"""Events from other actions that the training module acts on."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from covenant.cities.models import Membership
from covenant.config import get_settings
from covenant.events.base import DomainEvent
from covenant.i18n import gettext as _
from covenant.i18n import ngettext, recipient_locale, using_locale
from covenant.notifications import queue_mail
from modules.training import services
from modules.training.models import CurriculumStatus


def _field(payload: dict[str, Any], *names: str) -> str:
    for name in names:
        value = payload.get(name)
        if value:
            return str(value)
    return ""


async def add_lessons_to_toolbox(event: DomainEvent, session: AsyncSession) -> None:
    """``cohesion.lessons_published`` → a toolbox entry trainers can attach to curricula.

    The cohesion module's event is read defensively (it is being written at the same time): whatever
    title/summary/link fields it carries are used, and the entry is keyed on its id, so redelivery is harmless.
    """
    payload = {**event.model_dump(mode="json"), **(event.model_extra or {})}
    key = _field(payload, "lessons_id", "evaluation_id", "measure_id", "event_id")
    title = _field(payload, "title", "measure", "measure_title") or "Lessons learned on social cohesion"
    await services.add_toolbox_entry(
        session,
        source="cohesion",
        source_key=key,
        title=title,
        summary=_field(payload, "summary", "lessons", "verdict"),
        link=_field(payload, "link", "url"),
        city_id=UUID(str(event.city_id)) if event.city_id else None,
    )


async def recommend_curricula(event: DomainEvent, session: AsyncSession) -> None:
    """``assessment.submitted`` → remember the city's weak dimensions; its workspace recommends curricula for them.

    Read defensively: the assessment module does not exist yet. Upserted on (city, year)."""
    if event.city_id is None:
        return
    payload = {**event.model_dump(mode="json"), **(event.model_extra or {})}
    raw = payload.get("weakest_dimensions") or payload.get("weak_dimensions") or []
    dimensions = [str(d.get("name") or d.get("key") or d) if isinstance(d, dict) else str(d) for d in raw]
    try:
        year = int(payload.get("year") or event.occurred_at.year)
    except (TypeError, ValueError):
        year = event.occurred_at.year
    await services.record_assessment_priorities(session, event.city_id, year, dimensions)


async def offer_pilot_enrolment(event: DomainEvent, session: AsyncSession) -> None:
    """``city.signed`` → invite the new signatory's contact to take part in the pilot trainings.

    The inbox applies each delivery once, and the mail is queued in the same transaction."""
    if event.city_id is None:
        return
    membership = await session.scalar(select(Membership).where(Membership.city_id == event.city_id))
    if membership is None or not membership.contact_email:
        return
    published = await services.curricula(session, status=CurriculumStatus.published)
    link = f"{get_settings().base_url.rstrip('/')}/m/training/cities/{event.city_id}/"
    with using_locale(await recipient_locale(session, membership.contact_email)):
        subject = _("Pilot trainings on integrated urban security")
        body = ngettext(
            "Dear %(name)s,\n\nWelcome to the Covenant. %(count)d curriculum built on the Partnership's "
            "competence matrix is open for pilot trainings; your city can run one, co-author a joint curriculum, "
            "and let its staff assess their competences.\n\nSee the training workspace: %(link)s\n",
            "Dear %(name)s,\n\nWelcome to the Covenant. %(count)d curricula built on the Partnership's "
            "competence matrix are open for pilot trainings; your city can run one, co-author a joint curriculum, "
            "and let its staff assess their competences.\n\nSee the training workspace: %(link)s\n",
            len(published),
        ) % {"name": membership.contact_name, "count": len(published), "link": link}
    queue_mail(session, to=membership.contact_email, subject=subject, body_text=body)
