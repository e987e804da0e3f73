"""Fixtures of the fault tests: a private PostgreSQL cluster for the session (one database per test, copied
from a migrated template), a private Redis per test, and the ``covenant`` processes of one test."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.faults.stack import PrivatePostgres, PrivateRedis, Stack, Unavailable, install_fault_modules

TEMPLATE = "covenant_template"


@pytest.fixture(scope="session")
def fault_site() -> Iterator[Path]:
    site = install_fault_modules()
    yield site
    shutil.rmtree(site, ignore_errors=True)


@pytest.fixture(scope="session")
def private_postgres(fault_site: Path) -> Iterator[PrivatePostgres]:
    try:
        cluster = PrivatePostgres()
    except Unavailable as exc:
        pytest.skip(f"fault tests need a private PostgreSQL cluster: {exc}")
    try:
        cluster.init()
        cluster.start()
    except Unavailable as exc:
        cluster.destroy()
        pytest.skip(f"fault tests need a private PostgreSQL cluster: {exc}")
    try:
        cluster.psql(f"CREATE DATABASE {TEMPLATE}")
        url = cluster.url(TEMPLATE)
        from tests.conftest import _migrate

        _migrate(url)
        asyncio.run(_create_fault_tables(url))
        yield cluster
    finally:
        cluster.destroy()


async def _create_fault_tables(url: str) -> None:
    from covenant_faultmodule.models import FaultEffect, FaultNote
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.run_sync(lambda c: FaultNote.__table__.create(c))
        await conn.run_sync(lambda c: FaultEffect.__table__.create(c))
    await engine.dispose()


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    try:
        redis = PrivateRedis(tmp_path / "redis")
        redis.start()
    except Unavailable as exc:
        pytest.skip(f"fault tests need redis-server: {exc}")
    yield redis
    redis.stop()


@pytest.fixture
async def stack(
    private_postgres: PrivatePostgres,
    private_redis: PrivateRedis,
    fault_site: Path,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> AsyncIterator[Stack]:
    url = private_postgres.new_database(TEMPLATE)
    stack = Stack(tmp_path, url, private_redis, fault_site)
    try:
        yield stack
    finally:
        await asyncio.to_thread(stack.stop_all)
        await stack.dispose()
        report = getattr(request.node, "rep_call", None)
        if report is not None and report.failed:
            print(stack.logs())


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    report = yield
    if report.when == "call":
        item.rep_call = report  # type: ignore[attr-defined]
    return report
