"""Core pages of the shell: home, health."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get
from litestar.response import Template
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from covenant.cities.schemas import country_name
from covenant.cities.services import public_figures
from covenant.commitments.services import commitment_figures


@get("/", name="home", include_in_schema=False, opt={"public_cache": True})
async def home(db_session: AsyncSession) -> Template:
    """The Covenant's purpose and its live figures (active signatories only)."""
    context = {
        "figures": await public_figures(db_session),
        "commitments": await commitment_figures(db_session),
        "country_name": country_name,
    }
    return Template("home.html", context=context)


@get("/health/live", name="health:live", tags=["Health"], cache=False)
async def live() -> dict[str, str]:
    """The process answers."""
    return {"status": "ok"}


@get("/health/ready", name="health:ready", tags=["Health"], cache=False)
async def ready(request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
    """The database and the broker are reachable; 503 otherwise, so a load balancer stops routing here."""
    engine: AsyncEngine = request.app.state.engine
    checks: dict[str, str] = {}
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"unreachable: {type(exc).__name__}"
    bus = request.app.state.bus
    checks["broker"] = "ok" if await bus.ping() else "unreachable"
    healthy = all(v == "ok" for v in checks.values())
    return Response(
        {"status": "ok" if healthy else "unavailable", "checks": checks},
        status_code=200 if healthy else 503,
        headers=None if healthy else {"Retry-After": "5"},
    )


route_handlers = [home, live, ready]
