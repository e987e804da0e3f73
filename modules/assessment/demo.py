"""Demo data: the shipped framework published as the first version, three years of submitted self-assessments
for every demo signatory, a generated cohort of registry cities with plausible synthetic answers (so the peer
statistics have peers), two cities sharing their scores, and pilot feedback on the framework.

Deterministic (seeded by city and year) and idempotent: a second run adds nothing. Rows are inserted in bulk
(``insert().values([...])``), never one ORM object at a time.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from covenant.cities.models import City, Membership, MembershipStatus, SizeClass
from covenant.db import new_id
from covenant.events import outbox
from modules.assessment import services
from modules.assessment.events import AssessmentSubmitted
from modules.assessment.framework import Framework, Indicator
from modules.assessment.models import (
    Answer,
    AnswerSource,
    AssessmentResponse,
    FrameworkVersion,
    IndicatorFeedback,
    ResponseStatus,
)

SEED = 20_240_601
COHORT_PER_SIZE_CLASS = 120
"""Up to 120 registry cities per size class (not members): a few hundred in all."""
YEARS_BACK = 3
SHARING_CITIES = ("Helsinki", "Madrid")
FEEDBACK_CITIES = ("Helsinki", "Madrid", "Mechelen", "Nice")

DEMO_RANGES: dict[str, tuple[float, float]] = {
    # Plausible ranges for the shipped framework's open-ended numbers; per_1000 ones are rates per 1,000
    # inhabitants, multiplied by the population before they are stored (the engine divides again).
    "PER05": (0.05, 1.2),
    "CRI02": (1.0, 12.0),
    "CRI03": (5.0, 50.0),
    "CRI06": (4.0, 25.0),
    "COH01": (0.01, 0.3),
    "GOV03": (1_000.0, 25_000.0),
    "CAP01": (0.05, 2.0),
}


@dataclass(frozen=True)
class DemoCity:
    id: UUID
    name: str
    population: int
    country_code: str
    size_class: str


def demo_years(today: date | None = None) -> list[int]:
    """The last three completed years (the current one stays open for the cities)."""
    year = (today or date.today()).year
    return list(range(year - YEARS_BACK, year))


def _skip_chance(code: str) -> float:
    # Some indicators are left empty more often than others, as in a real pilot (stable across runs).
    return 0.04 + (sum(map(ord, code)) % 7) * 0.05


def _number_range(indicator: Indicator) -> tuple[float, float]:
    if indicator.code in DEMO_RANGES:
        return DEMO_RANGES[indicator.code]
    if indicator.goalposts is not None:
        low, high = indicator.goalposts
        return low, high
    if indicator.target is not None:
        return 0.3 * indicator.target, 1.1 * indicator.target
    low = indicator.minimum if indicator.minimum is not None else 0.0
    high = indicator.maximum if indicator.maximum is not None else low + 10.0
    return low, high


def synthetic_answer(indicator: Indicator, strength: float, population: int, rng: random.Random) -> str:
    """A plausible answer for a city whose overall strength is ``strength`` (0-1), as the survey would store it."""
    quality = strength if indicator.direction == "higher" else 1 - strength
    q = min(1.0, max(0.0, quality + rng.gauss(0, 0.15)))
    if indicator.type == "yes_no":
        return "yes" if rng.random() < 0.15 + 0.75 * q else "no"
    if indicator.type == "scale_1_5":
        return str(round(1 + 4 * q))
    if indicator.type == "choice":
        ordered = sorted(indicator.choices, key=lambda c: c.score)
        return ordered[round(q * (len(ordered) - 1))].value
    low, high = _number_range(indicator)
    value = low + q * (high - low)
    if indicator.transform == "per_1000":
        value = value * population / 1000
    bound_low, bound_high = indicator.bounds
    if bound_low is not None:
        value = max(value, bound_low)
    if bound_high is not None:
        value = min(value, bound_high)
    value = round(value, 1) if indicator.type == "percentage" or value < 20 else float(round(value))
    return services.raw_text(value)


def synthetic_answers(
    framework: Framework, city: DemoCity, year: int, *, strength: float
) -> dict[str, tuple[float, str]]:
    rng = random.Random(f"{SEED}-{city.name}-{city.id}-{year}")
    answers: dict[str, tuple[float, str]] = {}
    for indicator in framework.indicators_for(city.size_class):
        if rng.random() < _skip_chance(indicator.code):
            continue
        text = synthetic_answer(indicator, strength, city.population, rng)
        value = indicator.parse(text)
        if value is not None:
            answers[indicator.code] = (value, services.canonical(indicator, value, text))
    return answers


def _strength(city: DemoCity, year: int, first_year: int) -> float:
    base = random.Random(f"{SEED}-strength-{city.name}-{city.id}").uniform(0.2, 0.8)
    return min(0.95, base + 0.03 * (year - first_year))  # cities improve a little every year


async def _insert_responses(
    session: AsyncSession,
    framework: Framework,
    version: FrameworkVersion,
    cities: Sequence[DemoCity],
    years: Sequence[int],
    *,
    generated: bool,
) -> int:
    now = datetime.now(UTC)
    responses: list[dict[str, Any]] = []
    answers: list[dict[str, Any]] = []
    for city in cities:
        for year in years:
            response_id = new_id()
            responses.append(
                {
                    "id": response_id,
                    "city_id": city.id,
                    "year": year,
                    "framework_version_id": version.id,
                    "language": services.COUNTRY_LANGUAGES.get(city.country_code, "en"),
                    "status": ResponseStatus.submitted.value,
                    "opened_by": "demo",
                    "submitted_at": datetime(year, 11, 30, 12, tzinfo=UTC),
                    "generated": generated,
                    "created_at": now,
                    "updated_at": now,
                }
            )
            for code, (value, text) in synthetic_answers(
                framework, city, year, strength=_strength(city, year, years[0])
            ).items():
                indicator = framework.indicator(code)
                from_module = indicator.source == "module"
                answers.append(
                    {
                        "id": new_id(),
                        "response_id": response_id,
                        "indicator_code": code,
                        "value": value,
                        "raw": text,
                        "source": AnswerSource.module.value if from_module else AnswerSource.survey.value,
                        "source_detail": f"demo value, as {indicator.source_event} would fill it"
                        if from_module
                        else "",
                        "evidence": {},
                        "created_at": now,
                        "updated_at": now,
                    }
                )
    for chunk in services.chunks(responses):
        await session.execute(insert(AssessmentResponse).values(list(chunk)))
    for chunk in services.chunks(answers):
        await session.execute(insert(Answer).values(list(chunk)))
    return len(responses)


def _demo_city(row: Any) -> DemoCity:
    return DemoCity(row.id, row.name, row.population, row.country_code, row.size_class)


async def _signatories(session: AsyncSession) -> list[DemoCity]:
    rows = await session.execute(
        select(City.id, City.name, City.population, City.country_code, City.size_class)
        .join(Membership, Membership.city_id == City.id)
        .where(Membership.status == MembershipStatus.signatory)
        .order_by(City.name, City.id)
    )
    return [_demo_city(r) for r in rows]


async def _cohort(session: AsyncSession) -> list[DemoCity]:
    """Registry cities that are not members, up to COHORT_PER_SIZE_CLASS per size class (a seeded sample)."""
    rng = random.Random(SEED)
    chosen: list[DemoCity] = []
    for size in SizeClass:
        rows = (
            await session.execute(
                select(City.id, City.name, City.population, City.country_code, City.size_class)
                .outerjoin(Membership, Membership.city_id == City.id)
                .where(Membership.id.is_(None), City.size_class == size.value)
                .order_by(City.name, City.id)
            )
        ).all()
        picked = rng.sample(rows, min(COHORT_PER_SIZE_CLASS, len(rows)))
        chosen += [_demo_city(r) for r in picked]
    return chosen


async def load_demo(session: AsyncSession) -> None:
    """Load the module's demo data (idempotent)."""
    version = await services.current_version(session)
    framework = services.framework_of(version)
    years = demo_years()
    signatories = await _signatories(session)
    existing = set(
        (
            await session.execute(
                select(AssessmentResponse.city_id, AssessmentResponse.year).where(AssessmentResponse.year.in_(years))
            )
        ).tuples()
    )
    added = 0
    for city in signatories:
        missing = [y for y in years if (city.id, y) not in existing]
        added += await _insert_responses(session, framework, version, [city], missing, generated=False)
    has_cohort = await session.scalar(
        select(func.count()).select_from(AssessmentResponse).where(AssessmentResponse.generated.is_(True))
    )
    if not has_cohort:
        cohort = [c for c in await _cohort(session) if c.id not in {s.id for s in signatories}]
        added += await _insert_responses(session, framework, version, cohort, years, generated=True)
    if not added:
        return
    await session.flush()
    latest: dict[UUID, Any] = {}
    for year in years:
        scores = await services.rescore(session, year, version)
        if year == years[-1]:
            latest = {s.city_id: s for s in scores.values()}
    # The latest year's submissions of the signatories reach practices, training and funding, as a real one would.
    for city in signatories:
        score = latest.get(city.id)
        if score is None:
            continue
        dimensions = {k: v for k, v in score.dimensions.items() if v is not None}
        outbox.record(
            session,
            AssessmentSubmitted(
                city_id=city.id,
                response_id=score.response_id,
                year=years[-1],
                framework_code=version.code,
                framework_version=version.version,
                dimension_scores=dimensions,
                weakest_dimensions=[k for k, _v in sorted(dimensions.items(), key=lambda kv: (kv[1], kv[0]))][:2],
                index=score.index,
                coverage=score.coverage,
            ),
        )
    by_name = {c.name: c for c in signatories}
    for name in SHARING_CITIES:
        if name in by_name:
            await services.set_sharing(session, by_name[name].id, True, actor=None)
    await _feedback(session, framework, version, [by_name[n] for n in FEEDBACK_CITIES if n in by_name])


async def _feedback(
    session: AsyncSession, framework: Framework, version: FrameworkVersion, cities: Sequence[DemoCity]
) -> None:
    now = datetime.now(UTC)
    rows: list[dict[str, Any]] = []
    comments = {
        "CRI02": "Police data come late and by district, not by city.",
        "GOV03": "Hard to isolate the prevention budget from other lines.",
        "PER02": "We only survey every second year.",
    }
    done = set(
        await session.scalars(
            select(IndicatorFeedback.city_id).where(IndicatorFeedback.framework_version_id == version.id)
        )
    )
    for city in cities:
        if city.id in done:
            continue
        rng = random.Random(f"{SEED}-feedback-{city.name}")
        for indicator in framework.indicators_for(city.size_class):
            if rng.random() < 0.4:
                continue
            harder = _skip_chance(indicator.code) > 0.2  # the often-empty indicators are rated less usable
            rows.append(
                {
                    "id": new_id(),
                    "city_id": city.id,
                    "framework_version_id": version.id,
                    "indicator_code": indicator.code,
                    "usability": rng.randint(1, 3) if harder else rng.randint(3, 5),
                    "relevance": rng.randint(3, 5),
                    "comment": comments.get(indicator.code, "") if rng.random() < 0.5 else "",
                    "created_at": now,
                    "updated_at": now,
                }
            )
    for chunk in services.chunks(rows):
        await session.execute(insert(IndicatorFeedback).values(list(chunk)))
