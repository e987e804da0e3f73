"""The running event bus of one process: broker connection, relay loop, and (embedded) the worker thread.

Placeholder until the event bus lands: reports the broker reachable and does nothing else.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from covenant.config import Settings
from covenant.plugins import ModuleRegistry


class EventRuntime:
    def __init__(
        self, settings: Settings, registry: ModuleRegistry, sessions: async_sessionmaker[AsyncSession]
    ) -> None:
        self.settings = settings
        self.registry = registry
        self.sessions = sessions

    async def start(self, *, embedded_worker: bool) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def ping(self) -> bool:
        return True

    def nudge(self) -> None:
        return None
