"""The dev mailbox: mails kept instead of sent when no SMTP server is configured, for administrators."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar import get
from litestar.exceptions import NotFoundException
from litestar.params import Parameter
from litestar.response import Template
from litestar.types import ControllerRouterHandler
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from covenant.accounts.guards import admin_only
from covenant.notifications.models import MailMessage
from covenant.web.pagination import Page, clamp


@get("/admin/mailbox", name="mailbox:index", guards=[admin_only], include_in_schema=False)
async def mailbox(db_session: AsyncSession, number: Annotated[int, Parameter(query="page", ge=1)] = 1) -> Template:
    number, size = clamp(number, None)
    total = await db_session.scalar(select(func.count()).select_from(MailMessage)) or 0
    mails = list(
        await db_session.scalars(
            select(MailMessage).order_by(MailMessage.id.desc()).offset((number - 1) * size).limit(size)
        )
    )
    return Template("admin/mailbox.html", context={"mails": Page(mails, total, number, size)})


@get("/admin/mailbox/{mail_id:uuid}", name="mailbox:message", guards=[admin_only], include_in_schema=False)
async def mailbox_message(db_session: AsyncSession, mail_id: UUID) -> Template:
    mail = await db_session.get(MailMessage, mail_id)
    if mail is None:
        raise NotFoundException("No such mail.")
    return Template("admin/mailbox_message.html", context={"mail": mail})


route_handlers: list[ControllerRouterHandler] = [mailbox, mailbox_message]
