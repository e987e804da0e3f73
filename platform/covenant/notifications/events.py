"""Events of the notifications part of the core."""

from __future__ import annotations

from uuid import UUID

from covenant.events.base import DomainEvent
from covenant.events.catalogue import register_core_event


@register_core_event
class MailQueued(DomainEvent):
    name = "mail.queued"
    description = "A mail was queued; a worker delivers it (SMTP, or the dev mailbox when none is configured)."

    mail_id: UUID
