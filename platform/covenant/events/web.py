"""Admin pages and JSON of the event bus: catalogue, recent events, lag, dead letters (with replay)."""

from __future__ import annotations

import logging
from typing import Any
from uuid import UUID

from litestar import Request, Router, get, post
from litestar.exceptions import NotFoundException
from litestar.response import Redirect, Template
from litestar.types import ControllerRouterHandler
from prometheus_client import Gauge
from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from covenant.accounts.guards import admin_only
from covenant.events.catalogue import Catalogue
from covenant.events.dead_letters import list_dead_letters
from covenant.events.models import DeadLetter, DeadLetterStatus, OutboxRecord
from covenant.events.relay import outbox_lag_seconds
from covenant.web.pagination import Page, clamp

logger = logging.getLogger(__name__)

OUTBOX_LAG = Gauge("covenant_event_outbox_lag_seconds", "Age of the oldest unpublished outbox row, in seconds.")


class SubscriberView(BaseModel):
    name: str
    queue: str


class EventView(BaseModel):
    name: str
    publisher: str | None
    description: str
    subscribers: list[SubscriberView]


class RecordedEvent(BaseModel):
    id: int
    event_id: UUID
    name: str
    city_id: UUID | None
    occurred_at: str
    published_at: str | None
    attempts: int
    payload: dict[str, Any]


class DeadLetterView(BaseModel):
    id: UUID
    event_id: UUID
    event_name: str
    subscriber: str
    status: str
    error: str
    traceback: str
    attempts: int
    failed_at: str
    replayed_at: str | None


class PageOf(BaseModel):
    items: list[Any]
    total: int
    page: int
    size: int
    pages: int


def _catalogue(request: Request[Any, Any, Any]) -> Catalogue:
    catalogue: Catalogue = request.app.state.bus.catalogue
    return catalogue


def catalogue_view(catalogue: Catalogue) -> list[EventView]:
    return [
        EventView(
            name=e.name,
            publisher=e.publisher,
            description=e.description,
            subscribers=[SubscriberView(name=s, queue=catalogue.subscribers[s].queue) for s in e.subscribers],
        )
        for e in sorted(catalogue.events.values(), key=lambda e: e.name)
    ]


async def recent_events(session: AsyncSession, page: int | None, size: int | None) -> Page[RecordedEvent]:
    number, per_page = clamp(page, size)
    total = int(await session.scalar(select(func.count()).select_from(OutboxRecord)) or 0)
    rows = (
        await session.scalars(
            select(OutboxRecord).order_by(OutboxRecord.id.desc()).offset((number - 1) * per_page).limit(per_page)
        )
    ).all()
    items = [
        RecordedEvent(
            id=r.id,
            event_id=r.event_id,
            name=r.name,
            city_id=r.city_id,
            occurred_at=r.occurred_at.isoformat(),
            published_at=r.published_at.isoformat() if r.published_at else None,
            attempts=r.attempts,
            payload=r.payload,
        )
        for r in rows
    ]
    return Page(items=items, total=total, number=number, size=per_page)


async def dead_letter_page(session: AsyncSession, page: int | None, status: str | None) -> Page[DeadLetterView]:
    number, per_page = clamp(page, None)
    rows, total = await list_dead_letters(session, status=status, offset=(number - 1) * per_page, limit=per_page)
    return Page(items=[dead_letter_view(r) for r in rows], total=total, number=number, size=per_page)


def dead_letter_view(letter: DeadLetter) -> DeadLetterView:
    return DeadLetterView(
        id=letter.id,
        event_id=letter.event_id,
        event_name=letter.event_name,
        subscriber=letter.subscriber,
        status=letter.status,
        error=letter.error,
        traceback=letter.traceback,
        attempts=letter.attempts,
        failed_at=letter.failed_at.isoformat(),
        replayed_at=letter.replayed_at.isoformat() if letter.replayed_at else None,
    )


async def lag(session: AsyncSession) -> dict[str, float | int]:
    seconds = await outbox_lag_seconds(session)
    OUTBOX_LAG.set(seconds)
    unpublished = int(
        await session.scalar(select(func.count()).select_from(OutboxRecord).where(OutboxRecord.published_at.is_(None)))
        or 0
    )
    dead = int(
        await session.scalar(
            select(func.count()).select_from(DeadLetter).where(DeadLetter.status == DeadLetterStatus.DEAD)
        )
        or 0
    )
    return {"oldest_unpublished_seconds": round(seconds, 3), "unpublished": unpublished, "dead_letters": dead}


def _page_json(page: Page[Any]) -> PageOf:
    return PageOf(items=page.items, total=page.total, page=page.number, size=page.size, pages=page.pages)


def _status(value: str | None) -> str | None:
    return None if value == "all" else (value or DeadLetterStatus.DEAD)


# -- HTML ------------------------------------------------------------------------------------------
@get("/", name="admin:events")
async def events_page(request: Request[Any, Any, Any], db_session: AsyncSession, page: int | None = None) -> Template:
    recent = await recent_events(db_session, page, None)
    return Template(
        "admin/events.html",
        context={
            "catalogue": catalogue_view(_catalogue(request)),
            "recent": recent,
            "lag": await lag(db_session),
        },
    )


@get("/dead-letters", name="admin:events:dead-letters")
async def dead_letters_page(db_session: AsyncSession, page: int | None = None, status: str | None = None) -> Template:
    letters = await dead_letter_page(db_session, page, _status(status))
    return Template("admin/events_dead_letters.html", context={"letters": letters, "status": status or "dead"})


@post("/dead-letters/{letter_id:uuid}/replay", name="admin:events:replay", status_code=303)
async def replay_page(request: Request[Any, Any, Any], letter_id: UUID) -> Redirect:
    await _replay(request, letter_id)
    return Redirect("/admin/events/dead-letters", status_code=303)


# -- JSON ------------------------------------------------------------------------------------------
@get("/catalogue", name="api:admin:events:catalogue")
async def catalogue_json(request: Request[Any, Any, Any]) -> list[EventView]:
    """Every event, its publisher and its subscribers."""
    return catalogue_view(_catalogue(request))


@get("/recent", name="api:admin:events:recent")
async def recent_json(db_session: AsyncSession, page: int | None = None, size: int | None = None) -> PageOf:
    """Recorded events, newest first."""
    return _page_json(await recent_events(db_session, page, size))


@get("/lag", name="api:admin:events:lag")
async def lag_json(db_session: AsyncSession) -> dict[str, float | int]:
    """Age of the oldest unpublished outbox row, and counts of unpublished events and dead letters."""
    return await lag(db_session)


@get("/dead-letters", name="api:admin:events:dead-letters")
async def dead_letters_json(db_session: AsyncSession, page: int | None = None, status: str | None = None) -> PageOf:
    """Dead letters, newest first; ``status`` = dead (default), replayed, resolved or all."""
    return _page_json(await dead_letter_page(db_session, page, _status(status)))


@post("/dead-letters/{letter_id:uuid}/replay", name="api:admin:events:replay", status_code=202)
async def replay_json(request: Request[Any, Any, Any], letter_id: UUID) -> DeadLetterView:
    """Send the dead letter again to its subscriber."""
    return dead_letter_view(await _replay(request, letter_id))


async def _replay(request: Request[Any, Any, Any], letter_id: UUID) -> DeadLetter:
    sessions = request.app.state.sessions
    try:
        letter: DeadLetter = await request.app.state.bus.replay(letter_id)
    except LookupError as exc:
        raise NotFoundException(str(exc)) from exc
    except Exception:
        # Applied in-process and failed again: the dead letter was updated with the new error; show it.
        logger.exception("replay of dead letter %s failed", letter_id)
        async with sessions() as session:
            found: DeadLetter | None = await session.get(DeadLetter, letter_id)
        if found is None:
            raise
        return found
    return letter


route_handlers: list[ControllerRouterHandler] = [
    Router(
        path="/admin/events",
        route_handlers=[events_page, dead_letters_page, replay_page],
        guards=[admin_only],
        include_in_schema=False,
    ),
    Router(
        path="/api/v1/admin/events",
        route_handlers=[catalogue_json, recent_json, lag_json, dead_letters_json, replay_json],
        guards=[admin_only],
        tags=["Events"],
    ),
]
