"""The crawl of the whole app, once per backend for the package (built in its own event loop, so sync tests
can share it), and the helpers of the other security tests."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest

from covenant.config import Settings
from tests.conftest import BACKENDS, BROKER_URL, _truncate_postgres
from tests.platform.security.crawl import Crawl, run_crawl


@pytest.fixture(scope="package", params=BACKENDS)
def crawl(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Crawl:
    from argon2 import PasswordHasher

    from covenant.accounts import passwords

    tmp = tmp_path_factory.mktemp(f"crawl-{request.param}")
    if request.param == "sqlite":
        db = tmp / "covenant.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), db)
        url, broker = f"sqlite+aiosqlite:///{db}", ""
    else:
        url, broker = request.getfixturevalue("postgres_migrated"), BROKER_URL
    settings = Settings(
        var_dir=Path(tmp) / "var",
        database_url=url,
        broker_url=broker,
        secret_key="test-secret-key-that-is-long-enough-for-signing",
        modules=[],
    )
    previous = passwords.use_hasher(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    try:
        result = asyncio.run(run_crawl(settings))
    finally:
        passwords.use_hasher(previous)
        # The crawl is kept in memory: the database is emptied at once for the tests that follow.
        if request.param == "postgres":
            _truncate_postgres(url)
    return result
