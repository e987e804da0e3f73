"""``covenant demo --scale N``: the demo, then N generated cities — from any working directory (the command
finds the checkout's benchmarks/ folder itself)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from benchmarks.generate import GENERATED_DOMAIN
from tests.conftest import Backend

pytestmark = pytest.mark.backend


def covenant(args: list[str], backend: Backend, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("COVENANT_")}
    environ |= {
        "COVENANT_VAR_DIR": str(tmp_path / "var"),
        "COVENANT_SECRET_KEY": "s" * 40,
        "COVENANT_DATABASE_URL": backend.database_url,
    }
    return subprocess.run(
        [sys.executable, "-m", "covenant.cli", *args],
        capture_output=True,
        text=True,
        env=environ,
        timeout=600,
        check=False,
        cwd=tmp_path,
    )


async def test_demo_scale_loads_the_demo_then_the_cities(backend: Backend, engine: AsyncEngine, tmp_path: Path) -> None:
    first = covenant(["demo", "--scale", "40"], backend, tmp_path)
    assert first.returncode == 0, first.stderr
    assert "Administrator:" in first.stdout
    assert "scale data: 40 cities" in first.stdout
    async with engine.connect() as conn:
        generated = await conn.scalar(
            text("SELECT count(*) FROM city WHERE contact_email LIKE :domain"), {"domain": f"%@{GENERATED_DOMAIN}"}
        )
    assert generated == 40
    # A second run is refused by the generator (see test_generate), after the idempotent demo.


def test_the_scale_is_checked(backend: Backend, tmp_path: Path) -> None:
    result = covenant(["demo", "--scale", "0"], backend, tmp_path)
    assert result.returncode == 2
    assert "--scale" in result.stderr
