"""``covenant demo``: the core's demo content, then each enabled module's."""

from __future__ import annotations

from covenant.accounts.services import ensure_demo_admin
from covenant.calendar.demo import load_demo as load_calendar
from covenant.cities.demo import load_demo as load_cities
from covenant.commitments.demo import load_demo as load_commitments
from covenant.config import Settings
from covenant.db import create_engine, session_factory, transaction
from covenant.monitoring.demo import load_demo as load_monitoring
from covenant.plugins import ModuleRegistry


async def load_demo(settings: Settings, registry: ModuleRegistry) -> list[str]:
    """Load demo data idempotently; returns the lines to print (the admin's sign-in among them)."""
    engine = create_engine(settings)
    sessions = session_factory(engine)
    lines: list[str] = []
    try:
        async with transaction(sessions) as session:
            email, password = await ensure_demo_admin(session)
        # The core domain first (cities, then what points at them), then each module's content.
        for load in (load_cities, load_commitments, load_calendar):
            async with transaction(sessions) as session:
                await load(session)
        lines += [
            "Covenant demo data loaded.",
            f"  Administrator: {email}",
            f"  Password:      {password}",
            f"  Sign in at {settings.base_url}/login",
        ]
        for module in registry:
            if module.demo_data is None:
                continue
            async with transaction(sessions) as session:
                await module.demo_data(session)
            lines.append(f"demo data loaded for module {module.slug}")
        # The monitoring years last: their automatic checks read the modules' demo content.
        async with transaction(sessions) as session:
            lines += await load_monitoring(session, registry)
    finally:
        await engine.dispose()
    return lines
