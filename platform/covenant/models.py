"""Every core table, imported in one place so Alembic and the tests see the whole schema."""

from __future__ import annotations

import importlib

CORE_MODEL_MODULES: tuple[str, ...] = (
    "covenant.events.models",
    "covenant.accounts.models",
    "covenant.audit.models",
    "covenant.notifications.models",
    "covenant.cities.models",
    "covenant.commitments.models",
    "covenant.calendar.models",
    "covenant.monitoring.models",
)


def import_core_models() -> None:
    for path in CORE_MODEL_MODULES:
        importlib.import_module(path)
