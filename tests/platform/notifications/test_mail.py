"""Mail: queued with the caller's transaction, delivered by the worker's call, to SMTP or the dev mailbox."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from covenant.config import Settings
from covenant.db import transaction
from covenant.notifications import deliver_pending, mail, queue_mail
from covenant.notifications.models import FAILED, MAILBOX, QUEUED, SENT, MailMessage
from tests.fixtures.bus import Bus, eventually


async def statuses(sessions: async_sessionmaker[AsyncSession]) -> list[str]:
    async with sessions() as session:
        return list(await session.scalars(select(MailMessage.status).order_by(MailMessage.id)))


async def test_mail_of_a_rolled_back_transaction_is_never_sent(
    sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    async def failing_change() -> None:
        async with transaction(sessions) as session:
            queue_mail(session, to="a@city.eu", subject="Hello", body_text="Hi")
            raise RuntimeError("the change failed")

    with pytest.raises(RuntimeError):
        await failing_change()
    assert await deliver_pending(sessions, settings) == 0
    assert await statuses(sessions) == []


async def test_without_smtp_mail_lands_in_the_mailbox_once(
    sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    async with transaction(sessions) as session:
        queue_mail(session, to="a@city.eu", subject="Hello", body_text="Hi")
    assert await deliver_pending(sessions, settings) == 1
    assert await deliver_pending(sessions, settings) == 0
    assert await statuses(sessions) == [MAILBOX]


async def test_smtp_delivery_and_retries(
    sessions: async_sessionmaker[AsyncSession], settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    smtp = settings.model_copy(update={"smtp_host": "smtp.example.eu"})
    sent: list[EmailMessage] = []
    failing = True

    def fake_send(_settings: Settings, message: EmailMessage) -> None:
        if failing:
            raise smtplib.SMTPServerDisconnected("connection lost")
        sent.append(message)

    monkeypatch.setattr(mail, "_send_smtp", fake_send)
    async with transaction(sessions) as session:
        queue_mail(session, to="a@city.eu", subject="Hello", body_text="Hi", body_html="<p>Hi</p>")
    assert await deliver_pending(sessions, smtp) == 0
    assert await statuses(sessions) == [QUEUED]  # kept for the next run
    failing = False
    assert await deliver_pending(sessions, smtp) == 1
    assert await statuses(sessions) == [SENT]
    assert sent[0]["To"] == "a@city.eu"
    assert sent[0].is_multipart()


async def test_mail_gives_up_after_max_attempts(
    sessions: async_sessionmaker[AsyncSession], settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(_settings: Settings, _message: EmailMessage) -> None:
        raise OSError("unreachable")

    monkeypatch.setattr(mail, "_send_smtp", broken)
    smtp = settings.model_copy(update={"smtp_host": "smtp.example.eu"})
    async with transaction(sessions) as session:
        queue_mail(session, to="a@city.eu", subject="Hello", body_text="Hi")
    for _ in range(mail.MAX_ATTEMPTS):
        await deliver_pending(sessions, smtp)
    assert await statuses(sessions) == [FAILED]


async def test_a_queued_mail_is_delivered_by_the_worker_through_the_outbox(bus: Bus) -> None:
    from sqlalchemy import select

    from covenant.db import transaction
    from covenant.notifications.mail import queue_mail
    from covenant.notifications.models import MAILBOX, MailMessage

    async with transaction(bus.sessions) as session:
        mail = queue_mail(session, to="mayor@nice.example", subject="Welcome", body_text="Bienvenue")
    await bus.settle()

    async def delivered() -> bool:
        async with bus.sessions() as session:
            row = await session.scalar(select(MailMessage).where(MailMessage.id == mail.id))
            return row is not None and row.status == MAILBOX

    await eventually(delivered)
    assert await bus.scalar(select(MailMessage.attempts).where(MailMessage.id == mail.id)) == 1
