"""Core subscribers of the notifications part: mail goes out through a worker, never in a request."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from covenant.config import get_settings
from covenant.events.base import DomainEvent
from covenant.events.catalogue import register_core_subscription
from covenant.notifications.events import MailQueued
from covenant.notifications.mail import deliver_with


class MailNotDelivered(RuntimeError):
    """Raised so the broker retries with backoff; after the last try the event is a dead letter."""


async def send_queued_mail(event: DomainEvent, session: AsyncSession) -> None:
    assert isinstance(event, MailQueued)
    settings = get_settings()
    if not await deliver_with(session, settings, event.mail_id):
        from covenant.notifications.models import QUEUED, MailMessage

        mail = await session.get(MailMessage, event.mail_id)
        if mail is not None and mail.status == QUEUED:
            raise MailNotDelivered(f"mail {event.mail_id} not delivered: {mail.last_error}")


register_core_subscription(MailQueued.name, send_queued_mail)
