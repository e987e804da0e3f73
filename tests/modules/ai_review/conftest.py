"""The app with the ai_review module, two signatory cities, and helpers to build register entries."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

import pytest
from litestar import Litestar
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from covenant.app import create_app
from covenant.config import Settings
from covenant.plugins import ModuleRegistry
from modules.ai_review import rules
from modules.ai_review.plugin import module
from tests.platform.commitments.conftest import add_city


@pytest.fixture
def app(settings: Settings) -> Litestar:
    return create_app(settings, ModuleRegistry([module]), embedded_worker=False)


@dataclass
class Cities:
    a: UUID
    b: UUID


@pytest.fixture
async def cities(sessions: async_sessionmaker[AsyncSession]) -> Cities:
    """City A (Nice, FR) and city B (Riga, LV)."""
    return Cities(a=await add_city(sessions, "Nice", "FR", 342_000), b=await add_city(sessions, "Riga", "LV", 605_000))


def entry_fields(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "name": "Sound detection in the old town",
        "short_description": "Sensors detect gunshots and screams and alert the control room.",
        "description": "Sound events are classified on the device.",
        "category": "sound_detection",
        "purpose": "Faster intervention.",
        "department": "Municipal police",
        "contact": "dpo@nice.example",
        "status": "pilot",
        "start_date": "2025-01-01",
        "revision_date": "2027-01-01",
        "personal_data": True,
        "legal_basis": "GDPR Art. 6(1)(e)",
        "human_oversight": "An operator confirms every alert.",
        "dpia_done": True,
        "dpia_date": "2024-12-01",
        "retention": "30 days",
        "complaint_channel": "dpo@nice.example",
        "visibility": "public",
    }
    return values | overrides


def all_no(**yes: Any) -> dict[str, Any]:
    """Every yes/no question answered: an AI system, necessity argued, retention bounded, the rest "no"."""
    answers: dict[str, Any] = {q.key: False for q in rules.QUESTIONS if q.kind == "yesno"}
    answers.update({"is_ai_system": True, "necessity_argued": True, "retention_bounded": True})
    return answers | yes


FULL_FRIA = {key: f"Element {key} documented." for key in rules.FRIA_KEYS}
