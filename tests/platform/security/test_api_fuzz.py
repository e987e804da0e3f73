"""Schemathesis against the OpenAPI schema of the app with all five modules: every JSON operation, called
as an administrator (an API token) on the seeded world, must never answer 5xx, and its answers must be what
the schema says (status codes, content types, bodies).

``COVENANT_FUZZ_EXAMPLES`` examples per operation (10 by default for CI; ``make fuzz`` runs 300).
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from litestar import Litestar
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from covenant.config import Settings
from covenant.db import create_engine, session_factory
from tests.conftest import BACKENDS, BROKER_URL, _truncate_postgres
from tests.platform.security.crawl import make_app
from tests.platform.security.world import World, build_world

EXAMPLES = int(os.environ.get("COVENANT_FUZZ_EXAMPLES", "10"))


@pytest.fixture(scope="module", params=BACKENDS)
def fuzzed(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Litestar, World]]:
    from argon2 import PasswordHasher

    from covenant.accounts import passwords

    tmp = tmp_path_factory.mktemp(f"fuzz-{request.param}")
    if request.param == "sqlite":
        db = tmp / "covenant.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), db)
        url, broker = f"sqlite+aiosqlite:///{db}", ""
    else:
        url, broker = request.getfixturevalue("postgres_migrated"), BROKER_URL
    config = Settings(
        var_dir=Path(tmp) / "var",
        database_url=url,
        broker_url=broker,
        secret_key="test-secret-key-that-is-long-enough-for-signing",
        modules=[],
    )
    previous = passwords.use_hasher(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))

    async def seed() -> World:
        engine = create_engine(config)
        try:
            return await build_world(session_factory(engine), config)
        finally:
            await engine.dispose()

    try:
        world = asyncio.run(seed())
        yield make_app(config), world
    finally:
        passwords.use_hasher(previous)
        if request.param == "postgres":
            _truncate_postgres(url)


def test_every_json_operation_answers_as_documented_and_never_fails(fuzzed: tuple[Litestar, World]) -> None:
    """Each operation gets its own Hypothesis run; every failure is collected and reported together."""
    app, world = fuzzed
    api = schemathesis.openapi.from_asgi("/schema/openapi.json", app)
    token = {"Authorization": f"Bearer {world.people['admin'].api_token}"}
    failures: list[str] = []
    operations = 0
    for result in api.get_all_operations():
        operation = result.ok()
        operations += 1

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def fuzz(case: Any) -> None:
            case.call_and_validate(
                headers=token,
                checks=[
                    not_a_server_error,
                    status_code_conformance,
                    content_type_conformance,
                    response_schema_conformance,
                ],
            )

        try:
            fuzz()
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as exc:  # every operation's failures are reported, not the first only
            failures.append(f"{operation.label}: {str(exc).strip()[:1500]}")
    assert operations > 50
    assert not failures, f"{len(failures)} of {operations} operations failed:\n\n" + "\n\n".join(failures)
