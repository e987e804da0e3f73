"""What the self-assessment module does when other parts of the platform report something.

Indicators whose source is ``module`` name the event that fills them (``source_event``). Each event of a city
is kept as evidence on the answer of the city's response for the event's year, keyed by the event id, and the
value is recomputed from all the evidence — so a redelivered event changes nothing (on top of the inbox). How
a value is derived from the evidence (documented in the README, "Indicators filled from other modules"):

* yes/no: yes as soon as one event arrived;
* training sessions: a 1-5 indicator (type scale, or bounds 1 and 5) is the mean satisfaction weighted by
  respondents; a percentage is attendance (attended / registered); a count of people (unit ``participants``,
  ``people``, ``staff``...) is the sum of ``attended``;
* cohesion evaluations: a percentage is the share whose headline indicator improved;
* technology reviews: a percentage is the share of reviewed technologies outside the high and prohibited risk
  classes;
* any other number: the count of distinct events (technologies reviewed, fiches published, evaluations...).

A submitted response is a frozen record: events arriving after its submission are not applied to it.
"""

from __future__ import annotations

import logging
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from covenant.cities.models import City
from covenant.db import new_id
from covenant.events.base import DomainEvent
from modules.ai_review.events import TechnologyReviewed
from modules.assessment import services
from modules.assessment.framework import Indicator
from modules.assessment.models import Answer, AnswerSource, FrameworkVersion, ResponseStatus
from modules.cohesion.events import EvaluationCompleted
from modules.practices.events import FichePublished
from modules.training.events import SessionEvaluated

logger = logging.getLogger(__name__)

PEOPLE_UNITS = ("particip", "people", "person", "staff", "attend", "trainee")
SAFE_RISK_CLASSES = {"minimal", "limited", "not_ai"}


def _payload(event: DomainEvent) -> dict[str, Any]:
    return {**event.model_dump(mode="json"), **(event.model_extra or {})}


def facts_of(event: DomainEvent) -> dict[str, Any]:
    """The few numbers and words of an event its indicators are computed from (JSON-ready)."""
    p = _payload(event)
    on = str(p.get("occurred_at", ""))[:10]
    if event.name == TechnologyReviewed.name:
        return {
            "key": str(p.get("technology_id")),
            "on": str(p.get("signed_off_on") or on),
            "risk_class": str(p.get("risk_class", "")),
            "category": str(p.get("category", "")),
        }
    if event.name == SessionEvaluated.name:
        return {
            "key": str(p.get("session_id")),
            "on": on,
            "participants": int(p.get("participants") or 0),
            "attended": int(p.get("attended") or 0),
            "respondents": int(p.get("respondents") or 0),
            "satisfaction": p.get("satisfaction"),
        }
    if event.name == EvaluationCompleted.name:
        return {
            "key": str(p.get("evaluation_id")),
            "on": on,
            "measure": str(p.get("measure_name", ""))[:120],
            "improved": p.get("direction") == "improved",
            "verdict": str(p.get("verdict", "")),
        }
    if event.name == FichePublished.name:
        return {"key": str(p.get("fiche_id")), "on": on, "title": str(p.get("title", ""))[:120]}
    return {"key": str(event.event_id), "on": on}


def derive(indicator: Indicator, event_name: str, facts: list[dict[str, Any]]) -> float | None:
    """The indicator's value from the facts of the events received so far (see the module docstring)."""
    if not facts:
        return None
    if indicator.type == "yes_no":
        return 1.0
    distinct = {f["key"]: f for f in facts}.values()
    if event_name == SessionEvaluated.name:
        one_to_five = indicator.type == "scale_1_5" or (indicator.minimum == 1 and indicator.maximum == 5)
        if one_to_five:
            rated = [(f["satisfaction"], max(1, f["respondents"])) for f in distinct if f["satisfaction"] is not None]
            total = sum(w for _s, w in rated)
            mean = sum(s * w for s, w in rated) / total if total else None
            if mean is None:
                return None
            return float(round(mean)) if indicator.type == "scale_1_5" else round(mean, 2)
        if indicator.type == "percentage":
            registered = sum(f["participants"] for f in distinct)
            return round(100 * sum(f["attended"] for f in distinct) / registered, 1) if registered else None
        if any(word in indicator.unit.lower() for word in PEOPLE_UNITS):
            return float(sum(f["attended"] for f in distinct))
    if indicator.type == "percentage":
        items = list(distinct)
        if event_name == EvaluationCompleted.name:
            return round(100 * sum(1 for f in items if f["improved"]) / len(items), 1)
        if event_name == TechnologyReviewed.name:
            return round(100 * sum(1 for f in items if f["risk_class"] in SAFE_RISK_CLASSES) / len(items), 1)
        return None
    if indicator.type == "number":
        return float(len(distinct))
    return None


def describe(event_name: str, facts: list[dict[str, Any]]) -> str:
    """Where the value came from, in a line the city can check (kept in English, like the event names)."""
    items = sorted({f["key"]: f for f in facts}.values(), key=lambda f: f["on"])
    latest = items[-1]
    n = len(items)
    if event_name == TechnologyReviewed.name:
        return (
            f"ai_review: {n} technology review(s) signed off; latest on {latest['on']} "
            f"({latest['category']}, risk class {latest['risk_class']})"
        )
    if event_name == SessionEvaluated.name:
        attended = sum(f["attended"] for f in items)
        return f"training: {n} evaluated session(s), {attended} participant(s) attended; latest on {latest['on']}"
    if event_name == EvaluationCompleted.name:
        improved = sum(1 for f in items if f["improved"])
        return (
            f"cohesion: {n} impact evaluation(s) completed, {improved} improved; "
            f"latest '{latest['measure']}' on {latest['on']} (verdict {latest['verdict']})"
        )
    if event_name == FichePublished.name:
        return f"practices: {n} fiche(s) published; latest '{latest['title']}' on {latest['on']}"
    return f"{event_name}: {n} event(s); latest on {latest['on']}"


async def fill_from_event(event: DomainEvent, session: AsyncSession) -> None:
    """Fill the ``module``-sourced indicators fed by this event in the city's response for the event's year."""
    if event.city_id is None:
        return
    city = await session.get(City, UUID(str(event.city_id)))
    if city is None:
        return
    year = event.occurred_at.year
    response = await services.open_response(session, city, year, opened_by="event")
    if response.status != ResponseStatus.draft:
        logger.info("assessment: %s for %s %s ignored, the response is submitted", event.name, city.id, year)
        return
    version = await session.get(FrameworkVersion, response.framework_version_id)
    assert version is not None
    framework = services.framework_of(version)
    indicators = [
        i for i in framework.indicators_for(city.size_class) if i.source == "module" and i.source_event == event.name
    ]
    if not indicators:
        return
    answers = await services.answers_of(session, response.id)
    facts = facts_of(event)
    for indicator in indicators:
        answer = answers.get(indicator.code)
        if answer is None:
            answer = Answer(
                id=new_id(),
                response_id=response.id,
                indicator_code=indicator.code,
                raw="",
                source=AnswerSource.module,
                evidence={},
            )
            session.add(answer)
        evidence = dict(answer.evidence or {})
        evidence[str(event.event_id)] = facts
        value = derive(indicator, event.name, list(evidence.values()))
        text = services.raw_text(value)
        try:
            indicator.parse(text)
        except ValueError:
            logger.warning("assessment: %s gives %s=%s, outside its range; not set", event.name, indicator.code, text)
            value, text = None, ""
        answer.evidence = evidence
        answer.value, answer.raw = value, text
        answer.source = AnswerSource.module
        answer.source_detail = describe(event.name, list(evidence.values()))[:400]
        answer.source_event_id = event.event_id
    await session.flush()


async def open_workspace(event: DomainEvent, session: AsyncSession) -> None:
    """``city.signed``: open the new signatory's self-assessment for the current year (a draft)."""
    if event.city_id is None:
        return
    city = await session.get(City, UUID(str(event.city_id)))
    if city is not None:
        await services.open_response(session, city, event.occurred_at.year, opened_by="city.signed")


# One handler per event (Dramatiq actor names are global: ``assessment.<function name>``).


async def technology_reviewed(event: DomainEvent, session: AsyncSession) -> None:
    """``ai_review.technology_reviewed`` → the technology governance indicators."""
    await fill_from_event(event, session)


async def session_evaluated(event: DomainEvent, session: AsyncSession) -> None:
    """``training.session_evaluated`` → the capacity building indicators."""
    await fill_from_event(event, session)


async def evaluation_completed(event: DomainEvent, session: AsyncSession) -> None:
    """``cohesion.evaluation_completed`` → the social cohesion indicators."""
    await fill_from_event(event, session)


async def fiche_published(event: DomainEvent, session: AsyncSession) -> None:
    """``practices.fiche_published`` → the security by design indicators."""
    await fill_from_event(event, session)


SUBSCRIPTIONS = {
    "city.signed": open_workspace,
    TechnologyReviewed.name: technology_reviewed,
    SessionEvaluated.name: session_evaluated,
    EvaluationCompleted.name: evaluation_completed,
    FichePublished.name: fiche_published,
}
