"""A hand-computable cohort for the benchmarking tests (dashboard and no-ranking rule).

Framework ``bench-test``: two dimensions, every indicator on fixed goalposts, so every score is simple:
safety = (S1/100 + S2) / 2 x 100 and design = (D1/100 + D2/4) / 2 x 100; index = their mean. D2 is filled from
``practices.fiche_published`` (fiches published in the year).

Cities of 50,000-250,000 inhabitants in Belgium (the viewer, Aalst, and six peers), one in France of the
same size, one Belgian town below 50,000. Scores (safety / design / index):

    Aalst     20 / 10   / 15        the viewer
    Brugge    80 / 90   / 85        shares its scores; 4 fiches
    Namur     70 / 75   / 72.5      2 fiches, does not share
    Leuven    60 / 30   / 45
    Mechelen  50 / 20   / 35
    Kortrijk  40 / 37.5 / 38.75     1 fiche
    Hasselt   30 / 0    / 15
    Lille (FR), Ath (below 50,000): other peer groups

Belgian peers of Aalst: safety 30..80 → q1 42.5, median 55, q3 67.5; design 0..90 → q1 22.5, median 33.75,
q3 65.625; index → median 41.875.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from covenant.db import transaction
from modules.assessment import services
from modules.assessment.models import Answer, AssessmentResponse, FrameworkVersion, ScoreSharing
from tests.platform.commitments.conftest import add_city

YEAR = 2025

FRAMEWORK = """
code: bench-test
version: "1"
title: Benchmark test framework
scale: 100
dimensions:
  - code: safety
    name: Safety
    indicators:
      - {code: S1, name: Feeling safe, definition: Share feeling safe, type: percentage, normalisation: goalposts,
         goalposts: [0, 100]}
      - {code: S2, name: Safety strategy, definition: An adopted strategy, type: yes_no, normalisation: goalposts,
         goalposts: [0, 1]}
  - code: design
    name: Design
    indicators:
      - {code: D1, name: Reviewed projects, definition: Share reviewed, type: percentage, normalisation: goalposts,
         goalposts: [0, 100]}
      - {code: D2, name: Published fiches, definition: Fiches published, type: number, normalisation: goalposts,
         goalposts: [0, 4], minimum: 0, source: module, source_event: practices.fiche_published}
translations:
  fr:
    safety: {name: Sécurité}
"""

ANSWERS: dict[str, dict[str, str]] = {
    "Aalst": {"S1": "40", "S2": "no", "D1": "20", "D2": "0"},
    "Brugge": {"S1": "60", "S2": "yes", "D1": "80", "D2": "4"},
    "Namur": {"S1": "40", "S2": "yes", "D1": "100", "D2": "2"},
    "Leuven": {"S1": "20", "S2": "yes", "D1": "60", "D2": "0"},
    "Mechelen": {"S1": "0", "S2": "yes", "D1": "40", "D2": "0"},
    "Kortrijk": {"S1": "80", "S2": "no", "D1": "50", "D2": "1"},
    "Hasselt": {"S1": "60", "S2": "no", "D1": "0", "D2": "0"},
    "Lille": {"S1": "90", "S2": "yes", "D1": "90", "D2": "3"},
    "Ath": {"S1": "50", "S2": "yes", "D1": "50", "D2": "0"},
}
PLACES: dict[str, tuple[str, int]] = {
    "Aalst": ("BE", 88_000),
    "Brugge": ("BE", 118_000),
    "Namur": ("BE", 112_000),
    "Leuven": ("BE", 102_000),
    "Mechelen": ("BE", 87_000),
    "Kortrijk": ("BE", 77_000),
    "Hasselt": ("BE", 79_000),
    "Lille": ("FR", 236_000),
    "Ath": ("BE", 29_000),
}


@dataclass
class Cohort:
    version: FrameworkVersion
    ids: dict[str, UUID]

    @property
    def viewer(self) -> UUID:
        return self.ids["Aalst"]


async def publish_framework(sessions: async_sessionmaker[AsyncSession]) -> FrameworkVersion:
    async with transaction(sessions) as session:
        await services.ensure_default_framework(session)
        version = await services.import_version(session, FRAMEWORK, actor=None)
        await services.publish_version(session, version, actor=None)
    return version


async def submit_answers(
    sessions: async_sessionmaker[AsyncSession],
    version: FrameworkVersion,
    year: int,
    answers: dict[UUID, dict[str, str]],
) -> None:
    """Submitted responses with their answers, then the year's scores (as a submission computes them)."""
    framework = services.framework_of(version)
    now = datetime.now(UTC)
    async with transaction(sessions) as session:
        for city_id, raw_answers in answers.items():
            response = AssessmentResponse(
                city_id=city_id, year=year, framework_version_id=version.id, status="submitted", submitted_at=now
            )
            session.add(response)
            await session.flush()
            for code, raw in raw_answers.items():
                indicator = framework.indicator(code)
                session.add(
                    Answer(
                        response_id=response.id,
                        indicator_code=code,
                        value=indicator.parse(raw),
                        raw=raw,
                        source="module" if indicator.source == "module" else "survey",
                    )
                )
        await session.flush()
        await services.rescore(session, year, version)


async def build_cohort(sessions: async_sessionmaker[AsyncSession], *, shared: tuple[str, ...] = ("Brugge",)) -> Cohort:
    version = await publish_framework(sessions)
    ids = {name: await add_city(sessions, name, *PLACES[name]) for name in ANSWERS}
    await submit_answers(sessions, version, YEAR, {ids[name]: answers for name, answers in ANSWERS.items()})
    if shared:
        async with transaction(sessions) as session:
            for name in shared:
                session.add(ScoreSharing(city_id=ids[name], shared=True))
    return Cohort(version, ids)
