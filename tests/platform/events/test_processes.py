"""At scale the relay and the workers are separate processes: ``covenant relay`` and ``covenant worker``,
started here for real against PostgreSQL and Redis."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from covenant.db import transaction
from covenant.notifications.mail import queue_mail
from covenant.notifications.models import MAILBOX, MailMessage
from tests.conftest import Backend
from tests.fixtures.bus import eventually


def _start(command: list[str], backend: Backend, tmp_path: Path) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COVENANT_")}
    env |= {
        "COVENANT_DATABASE_URL": backend.database_url,
        "COVENANT_BROKER_URL": backend.broker_url,
        "COVENANT_VAR_DIR": str(tmp_path),
        "COVENANT_SECRET_KEY": "k" * 40,
        "COVENANT_MODULES": "",
        "COVENANT_RELAY_POLL_SECONDS": "0.2",
    }
    log = (tmp_path / f"{command[0]}.log").open("w")
    return subprocess.Popen(
        [sys.executable, "-m", "covenant.cli", *command], env=env, stdout=log, stderr=subprocess.STDOUT, text=True
    )


async def test_separate_relay_and_worker_processes_deliver_an_event(
    backend: Backend, sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    if not (backend.is_postgres and backend.broker_url):
        pytest.skip("separate processes need PostgreSQL and a broker")
    processes = [
        _start(["worker", "--threads", "2"], backend, tmp_path),
        _start(["relay"], backend, tmp_path),
    ]
    try:
        async with transaction(sessions) as session:
            mail = queue_mail(session, to="secretariat@covenant.example", subject="Hello", body_text="Hello")

        async def delivered() -> bool:
            async with sessions() as session:
                status = await session.scalar(select(MailMessage.status).where(MailMessage.id == mail.id))
            return status == MAILBOX

        await eventually(delivered, timeout=30)
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
    assert all(process.returncode == 0 for process in processes), [p.returncode for p in processes]
