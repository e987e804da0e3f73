"""The app with the assessment module, three cities of two size classes, editors, and a small framework.

Most tests publish ``SMALL_FRAMEWORK`` (two dimensions, every indicator type, one indicator for bigger cities
only, one filled from another module, French labels) so they can check values by hand; the shipped framework
is covered by the demo and the framework tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from covenant.app import create_app
from covenant.config import Settings
from covenant.db import transaction
from covenant.plugins import ModuleRegistry
from modules.assessment import services
from modules.assessment.models import FrameworkVersion
from modules.assessment.plugin import module
from tests.fixtures.web import sign_in
from tests.platform.commitments.conftest import add_city

Client = AsyncTestClient[Litestar]

SMALL_FRAMEWORK = """
code: pilot-test
version: "0.1"
title: Pilot test framework
scale: 100
aggregation: arithmetic
dimensions:
  - code: safety
    name: Safety
    description: How safe people feel.
    weight: 1
    indicators:
      - code: S1
        name: Feeling safe after dark
        definition: Share of residents who feel safe after dark.
        unit: "%"
        type: percentage
        direction: higher
        source: survey
        normalisation: minmax
        weight: 1
        help: From the latest residents' survey.
      - code: S2
        name: Safety walks
        definition: Safety walks held during the year.
        unit: walks
        type: number
        direction: higher
        source: survey
        normalisation: minmax
        minimum: 0
        maximum: 50
        weight: 1
      - code: S3
        name: Night-time strategy
        definition: The city has an adopted night-time safety strategy.
        type: yes_no
        direction: higher
        source: survey
        normalisation: minmax
        weight: 1
  - code: governance
    name: Governance
    description: How the city organises security.
    weight: 1
    indicators:
      - code: G1
        name: Cooperation with the police
        definition: Quality of cooperation with the police, from 1 to 5.
        type: scale_1_5
        direction: higher
        source: survey
        normalisation: minmax
        weight: 1
      - code: G2
        name: Security plan
        definition: Status of the local security plan.
        type: choice
        direction: higher
        source: survey
        normalisation: minmax
        weight: 1
        choices:
          - {value: none, label: No plan, score: 0}
          - {value: draft, label: Draft, score: 0.5}
          - {value: adopted, label: Adopted, score: 1}
      - code: G3
        name: Metropolitan coordination
        definition: A coordination body with neighbouring authorities.
        type: yes_no
        direction: higher
        source: survey
        size_classes: [50k_250k, 250k_500k, 500k_1m, above_1m]
        normalisation: minmax
        weight: 1
      - code: G4
        name: Technology reviews signed off
        definition: Reviews of the city's technologies signed off in the year.
        unit: reviews
        type: number
        direction: higher
        source: module
        source_event: ai_review.technology_reviewed
        normalisation: goalposts
        goalposts: [0, 5]
        minimum: 0
        weight: 1
translations:
  fr:
    safety:
      name: Sécurité
    S1:
      name: Se sentir en sécurité la nuit
      help: D'après la dernière enquête auprès des habitants.
    G2:
      name: Plan de sécurité
      choice.adopted: Adopté
"""


@pytest.fixture
def app(settings: Settings) -> Litestar:
    return create_app(settings, ModuleRegistry([module]), embedded_worker=False)


@dataclass
class Cities:
    small: UUID
    """Ath (BE), 29,000 inhabitants: below_50k."""
    mid: UUID
    """Mechelen (BE), 87,000 inhabitants: 50k_250k."""
    other: UUID
    """Leuven (BE), 102,000 inhabitants: 50k_250k."""


@pytest.fixture
async def cities(sessions: async_sessionmaker[AsyncSession]) -> Cities:
    return Cities(
        small=await add_city(sessions, "Ath", "BE", 29_000),
        mid=await add_city(sessions, "Mechelen", "BE", 87_000),
        other=await add_city(sessions, "Leuven", "BE", 102_000),
    )


async def publish_small_framework(sessions: async_sessionmaker[AsyncSession]) -> FrameworkVersion:
    async with transaction(sessions) as session:
        await services.ensure_default_framework(session)
        version = await services.import_version(session, SMALL_FRAMEWORK, actor=None)
        await services.publish_version(session, version, actor=None)
    return version


@pytest.fixture
async def small_framework(sessions: async_sessionmaker[AsyncSession]) -> FrameworkVersion:
    return await publish_small_framework(sessions)


async def sign_in_editor(client: Client, make_user: Any, city: UUID, email: str) -> None:
    """A contributor of ``city`` for the assessment module, signed in."""
    await make_user(email, roles=[("contributor", {"city_id": city, "modules": ["assessment"]})])
    response = await sign_in(client, email)
    assert response.status_code == 303, response.text
