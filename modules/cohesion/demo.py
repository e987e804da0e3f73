"""Demo data: measures of three pilot cities on the pyramid, and a completed impact measurement
(including one that backfired). Idempotent: a city that already has measures is left alone."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from covenant.cities.models import City
from modules.cohesion import services
from modules.cohesion.models import Initiative, Measure
from modules.cohesion.schemas import (
    EvaluationPlanInput,
    InitiativeInput,
    LessonInput,
    MeasureInput,
    RubricInput,
    SwotEntryInput,
    VerdictInput,
    WaveInput,
)

MEASURES = {
    "Mechelen": [
        ("Neighbourhood sports in Nekkerspoel", "fundamental", 12_000_000, True),
        ("Street workers in the station area", "specific", 30_000_000, False),
        ("Neighbourhood mediators", "general", 8_000_000, False),
        ("Camera surveillance of the Grote Markt", "curative", 15_000_000, False),
    ],
    "Madrid": [
        ("Mesas de convivencia in Lavapiés", "general", 20_000_000, True),
        ("Youth employment workshops", "fundamental", 45_000_000, False),
    ],
    "Regione Toscana": [
        ("Lighting and CCTV of city parks", "specific", 25_000_000, True),
        ("Community gardens", "fundamental", 5_000_000, False),
    ],
}

# (indicator, area, wave, mean, sd, n) — 1-5 scales; insecurity falls in Mechelen, rises with CCTV in Toscana.
WAVES = {
    "Mechelen": (
        "pre_post_comparison",
        [
            ("feeling_of_insecurity", "intervention", 0, 3.2, 0.9, 240),
            ("feeling_of_insecurity", "intervention", 1, 2.8, 0.9, 231),
            ("feeling_of_insecurity", "comparison", 0, 3.1, 0.9, 210),
            ("feeling_of_insecurity", "comparison", 1, 3.05, 0.9, 205),
        ],
        "continue",
        "Feelings of insecurity fell clearly more than in the comparison area.",
    ),
    "Regione Toscana": (
        "pre_post",
        [
            ("feeling_of_insecurity", "intervention", 0, 2.6, 0.8, 180),
            ("feeling_of_insecurity", "intervention", 1, 2.9, 0.8, 175),
        ],
        "adjust",
        "Residents felt watched; cameras are reduced and lighting kept, with park wardens.",
    ),
}


# A Collective Impact initiative in Mechelen, scored twice, with its SWOT workshop and a lesson.
INITIATIVE = InitiativeInput(
    title="A safe and lively station area",
    problem="Dealing, loitering and fear around the station persist although each partner runs its own project.",
    partners=["City of Mechelen — public", "Local police — public", "De Kade — civil society", "NMBS — business"],
)
RUBRIC = [
    (date(2024, 3, 1), (1, 0, 1, 1, 0, 3, 1, 3), "First workshop: each partner has its own goals."),
    (date(2025, 3, 1), (3, 2, 2, 3, 3, 3, 2, 3), "A backbone team at the city; a shared dashboard of 6 indicators."),
]
SWOT = [
    ("strengths", "Partners already meet monthly"),
    ("strengths", "Street workers trusted by young people"),
    ("weaknesses", "No shared data on incidents"),
    ("opportunities", "Station redevelopment 2026"),
    ("threats", "Budget cuts in youth work"),
]


async def load_initiative(session: AsyncSession, city_id: UUID) -> None:
    if await session.scalar(select(func.count()).select_from(Initiative).where(Initiative.city_id == city_id)):
        return
    initiative = await services.create_initiative(session, city_id, INITIATIVE, actor=None)
    for day, scores, notes in RUBRIC:
        values = dict(zip((*services.CONDITIONS, *services.PRECONDITIONS), scores, strict=True))
        await services.score_initiative(
            session, initiative, RubricInput.model_validate({"scored_on": day, "notes": notes, **values}), actor=None
        )
    board = await services.create_board(
        session, "Partners' workshop, March 2025", city_id=initiative.city_id, initiative_id=initiative.id, actor=None
    )
    for quadrant, text in SWOT:
        await services.add_entry(session, board, SwotEntryInput(quadrant=quadrant, text=text), actor=None)
    await services.publish_lesson(
        session,
        initiative.city_id,
        LessonInput(
            title="Collective Impact needs a backbone",
            body="Partners moved only once the city funded a small backbone team and a shared dashboard.",
            initiative_id=initiative.id,
        ),
        actor=None,
    )


async def load_demo(session: AsyncSession) -> None:
    await services.ensure_glossary(session)
    mechelen = (await session.scalars(select(City).where(City.name == "Mechelen"))).first()
    if mechelen is not None:
        await load_initiative(session, mechelen.id)
    for city_name, measures in MEASURES.items():
        city = (await session.scalars(select(City).where(City.name == city_name))).first()
        if city is None:
            continue
        if await session.scalar(select(func.count()).select_from(Measure).where(Measure.city_id == city.id)):
            continue
        for name, level, budget_cents, selected in measures:
            m = await services.create_measure(
                session,
                city.id,
                MeasureInput(name=name, level=level, annual_budget=budget_cents / 100, start_date=date(2022, 1, 1)),
                actor=None,
            )
            if not selected:
                continue
            evaluation = await services.select_measure(session, m, actor=None)
            if city_name not in WAVES:
                continue
            design, waves, verdict, reasons = WAVES[city_name]
            await services.save_plan(
                session,
                evaluation,
                EvaluationPlanInput(
                    problem_analysis="Residents report feeling unsafe in the area after dark.",
                    objectives="Residents feel safer\n  More residents use the area in the evening",
                    indicators=["feeling_of_insecurity"],
                    design=design,
                    activities=["Weekly activities run with residents"],
                ),
                actor=None,
            )
            for indicator, area, wave, mean, sd, n in waves:
                await services.add_wave(
                    session,
                    evaluation,
                    WaveInput(indicator=indicator, area=area, wave=wave, mean=mean, sd=sd, n=n),
                    actor=None,
                )
            await services.complete_evaluation(
                session, evaluation, m, VerdictInput(verdict=verdict, reasons=reasons), actor=None
            )
            await services.publish_lesson(
                session,
                city.id,
                LessonInput(title=f"What {city_name} learned from “{name}”", body=reasons, evaluation_id=evaluation.id),
                actor=None,
            )
