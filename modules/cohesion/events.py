"""What the social-cohesion module tells the rest of the platform (its only public contract)."""

from __future__ import annotations

from uuid import UUID

from covenant.events.base import DomainEvent


class EvaluationCompleted(DomainEvent):
    name = "cohesion.evaluation_completed"
    description = (
        "A city recorded its verdict on the impact measurement of a social-cohesion measure; "
        "assessment fills its 'social cohesion' indicators."
    )

    evaluation_id: UUID
    measure_id: UUID
    measure_name: str
    level: str
    indicator: str
    """The headline indicator (feeling of insecurity when measured)."""
    change: float | None
    effect: float | None
    """Hedges' g of the headline indicator (difference-in-differences when there is a comparison area)."""
    direction: str
    """improved, worsened or unclear, given which way is good for the indicator."""
    verdict: str
    """continue, adjust or stop."""


class LessonsPublished(DomainEvent):
    name = "cohesion.lessons_published"
    description = (
        "A lesson learned from an evaluation or a Collective Impact initiative was published; "
        "training adds it to the trainers' toolbox."
    )

    lesson_id: UUID
    title: str
    summary: str
    language: str
    source: str
    """evaluation, initiative or general."""
