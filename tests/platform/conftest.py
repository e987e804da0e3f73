from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from covenant.app import create_app
from covenant.config import Settings
from covenant.plugins import ModuleRegistry


@pytest.fixture
def app(settings: Settings) -> Litestar:
    """The core alone (no module), without the embedded worker: event tests start their own."""
    return create_app(settings, ModuleRegistry([]), embedded_worker=False)


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with AsyncTestClient(app=app) as client:
        yield client
