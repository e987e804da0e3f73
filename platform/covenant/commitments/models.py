"""Commitments of signatory cities and the dated progress updates that make up their timeline."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import JSON, Date, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from covenant.db import AuditedBase
from covenant.i18n import N_


class Priority(StrEnum):
    """The three priorities of the seed's Partnership on security in public spaces."""

    urban_planning = "urban_planning"
    technology = "technology"
    security_public_spaces = "security_public_spaces"


PRIORITY_LABELS: dict[str, str] = {
    Priority.urban_planning: N_("Urban planning and design"),
    Priority.technology: N_("Technology"),
    Priority.security_public_spaces: N_("Managing security and sharing public spaces"),
}


class CommitmentStatus(StrEnum):
    """Where a commitment stands. Publication is separate: a draft has no ``published_at``."""

    planned = "planned"
    in_progress = "in_progress"
    achieved = "achieved"
    withdrawn = "withdrawn"


STATUS_LABELS: dict[str, str] = {
    CommitmentStatus.planned: N_("Planned"),
    CommitmentStatus.in_progress: N_("In progress"),
    CommitmentStatus.achieved: N_("Achieved"),
    CommitmentStatus.withdrawn: N_("Withdrawn"),
}

DEFAULT_PROGRESS: dict[str, int | None] = {
    CommitmentStatus.planned: 0,
    CommitmentStatus.in_progress: None,  # keeps the latest reported percentage
    CommitmentStatus.achieved: 100,
    CommitmentStatus.withdrawn: None,
}

LANGUAGE_LABELS: dict[str, str] = {
    "en": N_("English"),
    "fr": N_("French"),
    "es": N_("Spanish"),
    "it": N_("Italian"),
}


class Commitment(AuditedBase):
    """What a signatory commits to achieve, with a measurable target and a due date."""

    __tablename__ = "commitment"
    __table_args__ = (
        Index("ix_commitment_city_id_created_at", "city_id", "created_at"),
        Index("ix_commitment_published_at_id", "published_at", "id"),
        Index("ix_commitment_priority_published_at", "priority", "published_at"),
        Index("ix_commitment_status_published_at", "status", "published_at"),
        Index("ix_commitment_parent_id", "parent_id"),
    )

    city_id: Mapped[UUID] = mapped_column(ForeignKey("city.id", ondelete="CASCADE"))
    parent_id: Mapped[UUID | None] = mapped_column(ForeignKey("commitment.id", ondelete="SET NULL"), default=None)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    language: Mapped[str] = mapped_column(String(2), default="en")
    """The language the commitment was written in (en, fr, es, it); public pages say so."""
    priority: Mapped[str] = mapped_column(String(30))
    modules: Mapped[list[str]] = mapped_column(JSON, default=list)
    """Slugs of the action modules this commitment relates to."""
    indicator: Mapped[str] = mapped_column(String(200), default="")
    baseline: Mapped[float | None] = mapped_column(Float, default=None)
    target_value: Mapped[float | None] = mapped_column(Float, default=None)
    unit: Mapped[str] = mapped_column(String(40), default="")
    start_date: Mapped[date] = mapped_column(Date)
    due_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(12), default=CommitmentStatus.planned)
    progress: Mapped[int] = mapped_column(Integer, default=0)
    """The commitment's own progress (latest update, or the status default); parents are computed."""
    weight: Mapped[int] = mapped_column(Integer, default=1)
    """How much this commitment counts in its parent's progress."""
    published_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    """None while it is a draft (private to the city's editors)."""

    @property
    def is_published(self) -> bool:
        return self.published_at is not None

    def snapshot(self) -> dict[str, Any]:
        """The editable fields, for audit before/after."""
        return {
            "title": self.title,
            "description": self.description,
            "language": self.language,
            "priority": self.priority,
            "modules": list(self.modules or []),
            "indicator": self.indicator,
            "baseline": self.baseline,
            "target_value": self.target_value,
            "unit": self.unit,
            "start_date": self.start_date.isoformat() if self.start_date else None,
            "due_date": self.due_date.isoformat() if self.due_date else None,
            "status": self.status,
            "progress": self.progress,
            "weight": self.weight,
            "parent_id": str(self.parent_id) if self.parent_id else None,
        }


class ProgressUpdate(AuditedBase):
    """One dated entry of a commitment's progress timeline."""

    __tablename__ = "commitment_progress_update"
    __table_args__ = (Index("ix_commitment_progress_update_commitment_id_reported_on", "commitment_id", "reported_on"),)

    commitment_id: Mapped[UUID] = mapped_column(ForeignKey("commitment.id", ondelete="CASCADE"))
    reported_on: Mapped[date] = mapped_column(Date)
    percentage: Mapped[int] = mapped_column(Integer)
    narrative: Mapped[str] = mapped_column(Text, default="")
    evidence_links: Mapped[list[str]] = mapped_column(JSON, default=list)
    author_id: Mapped[UUID | None] = mapped_column(ForeignKey("account_user.id", ondelete="SET NULL"), default=None)
