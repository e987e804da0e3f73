"""What the training module tells the rest of the platform (its only public contract)."""

from __future__ import annotations

from uuid import UUID

from covenant.events.base import DomainEvent


class SessionEvaluated(DomainEvent):
    name = "training.session_evaluated"
    description = (
        "A pilot training's satisfaction questionnaire was closed and evaluated; "
        "assessment fills its 'capacity building' indicators."
    )

    session_id: UUID
    curriculum_id: UUID
    target_groups: list[str]
    participants: int
    """Registered participants (waiting list excluded)."""
    attended: int
    respondents: int
    satisfaction: float | None
    """Mean of all Likert answers, 1-5; None when nobody answered."""
