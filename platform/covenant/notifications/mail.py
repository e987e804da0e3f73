"""E-mail: queued in the caller's transaction, delivered later by a worker.

The worker calls :func:`deliver_pending` (or :func:`deliver` for one mail). Without an SMTP server
(``COVENANT_SMTP_HOST`` empty, the embedded default) mails are kept for the admins' dev mailbox page.
"""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from uuid import UUID

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from covenant.config import Settings
from covenant.db import new_id, transaction
from covenant.events.outbox import record
from covenant.notifications.events import MailQueued
from covenant.notifications.models import FAILED, MAILBOX, QUEUED, SENT, MailMessage

log = structlog.get_logger(__name__)

MAX_ATTEMPTS = 5
BATCH_SIZE = 100


def queue_mail(
    session: AsyncSession, *, to: str, subject: str, body_text: str, body_html: str | None = None
) -> MailMessage:
    """Add a mail to ``session``: it is sent only if the caller's transaction commits."""
    mail = MailMessage(
        id=new_id(), to_address=to, subject=subject, body_text=body_text, body_html=body_html, status=QUEUED
    )
    session.add(mail)
    # The id is assigned client-side (UUIDv7), so the event can name the mail before the flush.
    record(session, MailQueued(mail_id=mail.id))
    return mail


async def deliver_pending(sessions: async_sessionmaker[AsyncSession], settings: Settings) -> int:
    """Deliver every queued mail (up to one batch); returns how many were delivered."""
    async with sessions() as session:
        ids = list(
            await session.scalars(
                select(MailMessage.id).where(MailMessage.status == QUEUED).order_by(MailMessage.id).limit(BATCH_SIZE)
            )
        )
    delivered = 0
    for mail_id in ids:
        delivered += await deliver(sessions, settings, mail_id)
    return delivered


async def deliver(sessions: async_sessionmaker[AsyncSession], settings: Settings, mail_id: UUID) -> bool:
    """Deliver one queued mail. Safe to call twice or from several workers: a mail is sent at most once
    per successful attempt (rows are locked with SKIP LOCKED on PostgreSQL; SQLite runs one worker)."""
    async with transaction(sessions) as session:
        return await deliver_with(session, settings, mail_id)


async def deliver_with(session: AsyncSession, settings: Settings, mail_id: UUID) -> bool:
    """Deliver one queued mail inside the caller's transaction (the worker's handler uses this)."""
    mail = await session.scalar(
        select(MailMessage)
        .where(MailMessage.id == mail_id, MailMessage.status == QUEUED)
        .with_for_update(skip_locked=True)
    )
    if mail is None:
        return False
    mail.attempts += 1
    if not settings.smtp_host:
        mail.status = MAILBOX
        mail.delivered_at = datetime.now(UTC)
        return True
    try:
        await asyncio.to_thread(_send_smtp, settings, _as_email(settings, mail))
    except (smtplib.SMTPException, OSError) as exc:
        mail.last_error = f"{type(exc).__name__}: {exc}"
        if mail.attempts >= MAX_ATTEMPTS:
            mail.status = FAILED
        log.warning("mail delivery failed", mail_id=str(mail.id), attempts=mail.attempts, error=str(exc))
        return False
    mail.status = SENT
    mail.delivered_at = datetime.now(UTC)
    mail.last_error = None
    return True


def _as_email(settings: Settings, mail: MailMessage) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = mail.to_address
    message["Subject"] = mail.subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(idstring=str(mail.id))
    message.set_content(mail.body_text)
    if mail.body_html:
        message.add_alternative(mail.body_html, subtype="html")
    return message


def _send_smtp(settings: Settings, message: EmailMessage) -> None:
    context = ssl.create_default_context()
    smtp: smtplib.SMTP
    if settings.smtp_port == 465:
        smtp = smtplib.SMTP_SSL(settings.smtp_host, settings.smtp_port, timeout=30, context=context)
    else:
        smtp = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=30)
    with smtp:
        if settings.smtp_starttls and settings.smtp_port != 465:
            smtp.starttls(context=context)
        if settings.smtp_user:
            smtp.login(settings.smtp_user, settings.smtp_password)
        smtp.send_message(message)
