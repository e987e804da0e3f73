from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

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


# -- accounts: cheap hashing, users, signing in ------------------------------------------------------

DEFAULT_PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def _cheap_password_hashing() -> Iterator[None]:
    """Argon2 is slow by design; tests use the cheapest parameters so the suite stays fast."""
    from argon2 import PasswordHasher

    from covenant.accounts import passwords

    previous = passwords.use_hasher(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    yield
    passwords.use_hasher(previous)


@pytest.fixture
def make_user(sessions: async_sessionmaker[AsyncSession]) -> Callable[..., Awaitable[Any]]:
    """``await make_user("a@city.eu", roles=[("contributor", {"city_id": city})])`` → the User row."""
    from covenant.accounts import services
    from covenant.db import transaction

    async def make(
        email: str = "person@city.eu",
        password: str | None = DEFAULT_PASSWORD,
        *,
        roles: Sequence[tuple[str, dict[str, Any]]] = (),
        display_name: str = "",
    ) -> Any:
        async with transaction(sessions) as session:
            user = await services.create_user(
                session, email=email, display_name=display_name or email, password=password, actor=None
            )
            for role, scope in roles:
                await services.grant_role(session, user, role=role, actor=None, **scope)  # type: ignore[arg-type]
        return user

    return make


def csrf_headers(client: AsyncTestClient[Litestar]) -> dict[str, str]:
    """The CSRF header matching the cookie a previous GET set."""
    return {"x-csrftoken": client.cookies.get("covenant_csrf", "")}


async def sign_in(client: AsyncTestClient[Litestar], email: str, password: str = DEFAULT_PASSWORD) -> Any:
    await client.get("/login")
    return await client.post(
        "/login", data={"email": email, "password": password}, headers=csrf_headers(client), follow_redirects=False
    )


@pytest.fixture
async def admin_client(
    client: AsyncTestClient[Litestar], make_user: Callable[..., Awaitable[Any]]
) -> AsyncTestClient[Litestar]:
    """The client, signed in as admin@city.eu (an administrator)."""
    await make_user("admin@city.eu", roles=[("admin", {})])
    response = await sign_in(client, "admin@city.eu")
    assert response.status_code == 303, response.text
    return client
