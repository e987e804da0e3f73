"""deploy/README.md's configuration reference cannot drift from the code: its table lists exactly the fields
of ``covenant.config.Settings`` with their defaults, and every other ``COVENANT_`` variable the code reads
is documented too."""

from __future__ import annotations

import re
from enum import Enum
from pathlib import Path
from typing import Any

from pydantic_core import PydanticUndefined

from covenant.config import Settings
from tests.deploy.conftest import DEPLOY, ROOT

README = DEPLOY / "README.md"
ROW = re.compile(r"^\|\s*`(?P<name>[A-Z][A-Z0-9_]+)`\s*\|\s*(?P<default>[^|]*?)\s*\|\s*(?P<meaning>.*?)\s*\|\s*$")
READ_FROM_ENV = re.compile(r"""(?:environ\.get|getenv|environ\[)\(?\s*["'](COVENANT_[A-Z0-9_]+)["']""")


def tables() -> list[dict[str, tuple[str, str]]]:
    """Each Markdown table of the README whose first column is a variable: {variable: (default, meaning)}."""
    found: list[dict[str, tuple[str, str]]] = []
    current: dict[str, tuple[str, str]] | None = None
    for line in README.read_text().splitlines():
        match = ROW.match(line)
        if match:
            if current is None:
                current = {}
                found.append(current)
            current[match["name"]] = (match["default"], match["meaning"])
        elif not line.startswith("|"):
            current = None
    return found


def configuration_reference() -> dict[str, tuple[str, str]]:
    (table,) = [t for t in tables() if "COVENANT_DATABASE_URL" in t]
    return table


def shown(default: Any) -> str:
    """A default as the README shows it."""
    if default is None:
        return "(unset)"
    if default == "":
        return "(empty)"
    if isinstance(default, bool):
        return f"`{str(default).lower()}`"
    if isinstance(default, Enum):
        return f"`{default.value}`"
    return f"`{default}`"


def test_every_setting_is_documented_with_its_default() -> None:
    table = configuration_reference()
    expected = {}
    for name, field in Settings.model_fields.items():
        assert field.default is not PydanticUndefined, f"{name} has no default: document how to set it"
        expected[f"COVENANT_{name.upper()}"] = shown(field.default)
    documented = {variable: default for variable, (default, _) in table.items()}
    missing = sorted(set(expected) - set(documented))
    stale = sorted(set(documented) - set(expected))
    assert not missing, f"add to deploy/README.md: {missing}"
    assert not stale, f"no longer settings, remove from deploy/README.md: {stale}"
    wrong = {v: (documented[v], expected[v]) for v in expected if documented[v] != expected[v]}
    assert not wrong, f"README default vs code default: {wrong}"
    assert all(len(meaning) > 15 for _, meaning in table.values()), "every variable says what it means"


def test_variables_read_outside_the_settings_are_documented() -> None:
    read = {
        match
        for folder in ("platform", "modules")
        for path in (ROOT / folder).rglob("*.py")
        for match in READ_FROM_ENV.findall(path.read_text(errors="replace"))
    }
    documented = {name for table in tables() for name in table}
    assert read, "the scan found nothing: it is broken"
    assert read <= documented, f"document in deploy/README.md: {sorted(read - documented)}"


def test_the_scan_finds_a_variable_read_from_the_environment(tmp_path: Path) -> None:
    sample = 'x = os.environ.get("COVENANT_SOMETHING", "1")\ny = os.getenv("COVENANT_OTHER")\n'
    assert READ_FROM_ENV.findall(sample) == ["COVENANT_SOMETHING", "COVENANT_OTHER"]


def test_defaults_render_as_documented() -> None:
    assert shown(None) == "(unset)"
    assert shown("") == "(empty)"
    assert shown(True) == "`true`"
    assert shown(Path("var")) == "`var`"
    assert shown(2.0) == "`2.0`"
