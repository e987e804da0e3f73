"""The audit log page for administrators."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar import get
from litestar.params import Parameter
from litestar.response import Template
from litestar.types import ControllerRouterHandler
from sqlalchemy.ext.asyncio import AsyncSession

from covenant.accounts.guards import admin_only
from covenant.audit.services import search
from covenant.web.pagination import Page, clamp


@get("/admin/audit", name="audit:index", guards=[admin_only], include_in_schema=False)
async def audit_log(
    db_session: AsyncSession,
    entity_type: str = "",
    entity_id: str = "",
    actor: Annotated[str, Parameter(description="The actor's e-mail address or user id.")] = "",
    number: Annotated[int, Parameter(query="page", ge=1)] = 1,
) -> Template:
    number, size = clamp(number, None)
    actor = actor.strip()
    actor_id: UUID | None = None
    try:
        actor_id = UUID(actor) if actor else None
    except ValueError:
        actor_id = None
    entries, total = await search(
        db_session,
        entity_type=entity_type.strip() or None,
        entity_id=entity_id.strip() or None,
        actor_id=actor_id,
        actor_email=actor if actor and actor_id is None else None,
        offset=(number - 1) * size,
        limit=size,
    )
    return Template(
        "admin/audit.html",
        context={
            "entries": Page(entries, total, number, size),
            "filters": {"entity_type": entity_type, "entity_id": entity_id, "actor": actor},
        },
    )


route_handlers: list[ControllerRouterHandler] = [audit_log]
