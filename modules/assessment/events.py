"""What the self-assessment module tells the rest of the platform (its only public contract)."""

from __future__ import annotations

from uuid import UUID

from covenant.events.base import DomainEvent


class AssessmentSubmitted(DomainEvent):
    """A city submitted its self-assessment for a year (``city_id`` in the envelope).

    ``dimension_scores`` are on the framework's scale (0-1 or 0-100), computed over the year's submitted cohort
    of the same framework version; ``weakest_dimensions`` are the codes of its two lowest-scoring dimensions
    (practices recommends peer fiches for them, training curricula, funding calls).
    """

    name = "assessment.submitted"
    description = (
        "A city submitted its yearly self-assessment; practices, training and funding act on its weakest dimensions."
    )

    response_id: UUID
    year: int
    framework_code: str
    framework_version: str
    dimension_scores: dict[str, float]
    weakest_dimensions: list[str]
    index: float | None = None
    coverage: float = 0.0
