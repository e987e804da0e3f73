from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"


@pytest.fixture
def deploy_copy(tmp_path: Path) -> Path:
    """deploy/ copied into a scratch directory, with every *.env made from its *.env.example (as an operator
    does first), so the compose file can be validated without committed secrets."""
    import shutil

    target = tmp_path / "deploy"
    shutil.copytree(DEPLOY, target)
    for example in target.glob("*.env.example"):
        (target / example.name.removesuffix(".example")).write_text(example.read_text())
    return target
