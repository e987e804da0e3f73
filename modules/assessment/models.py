"""Tables of the self-assessment module (all prefixed ``assessment_``).

A framework version is kept as the YAML text it was imported from (parsed with ``Framework.from_yaml``), so
what a published version says can never drift from what was published. A city's answers for one year form
one response; scores are computed over the year's submitted cohort and say which framework version they used.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from covenant.db import AuditedBase
from covenant.i18n import N_


class VersionStatus(StrEnum):
    draft = "draft"
    published = "published"


class ResponseStatus(StrEnum):
    draft = "draft"
    submitted = "submitted"


class AnswerSource(StrEnum):
    survey = "survey"
    upload = "upload"
    module = "module"


VERSION_STATUS_LABELS: dict[str, str] = {"draft": N_("Draft"), "published": N_("Published")}
RESPONSE_STATUS_LABELS: dict[str, str] = {"draft": N_("Draft"), "submitted": N_("Submitted")}
SOURCE_LABELS: dict[str, str] = {
    "survey": N_("Entered in the survey"),
    "upload": N_("Uploaded from the offline template"),
    "module": N_("Filled from another module"),
}
SURVEY_LANGUAGES: dict[str, str] = {"en": "English", "fr": "Français", "es": "Español", "it": "Italiano"}
"""The languages a survey can be shown in (labels come from the framework's translations; answers do not
depend on the language)."""


class FrameworkVersion(AuditedBase):
    """One version of the self-assessment framework, as YAML. Published versions are immutable."""

    __tablename__ = "assessment_framework_version"
    __table_args__ = (
        UniqueConstraint("code", "version", name="uq_assessment_framework_version_code_version"),
        Index("ix_assessment_framework_version_status_published_at", "status", "published_at"),
    )

    code: Mapped[str] = mapped_column(String(60))
    version: Mapped[str] = mapped_column(String(30))
    title: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(10), default=VersionStatus.draft)
    yaml: Mapped[str] = mapped_column(Text)
    indicator_count: Mapped[int] = mapped_column(Integer, default=0)
    notes: Mapped[str] = mapped_column(Text, default="")
    published_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    created_by: Mapped[UUID | None] = mapped_column(ForeignKey("account_user.id", ondelete="SET NULL"), default=None)


class AssessmentResponse(AuditedBase):
    """A city's self-assessment for one year, on one framework version (a draft until submitted)."""

    __tablename__ = "assessment_response"
    __table_args__ = (
        UniqueConstraint("city_id", "year", name="uq_assessment_response_city_id_year"),
        Index("ix_assessment_response_year_status", "year", "status"),
    )

    city_id: Mapped[UUID] = mapped_column(ForeignKey("city.id", ondelete="CASCADE"))
    year: Mapped[int] = mapped_column(Integer)
    framework_version_id: Mapped[UUID] = mapped_column(
        ForeignKey("assessment_framework_version.id", ondelete="RESTRICT"), index=True
    )
    language: Mapped[str] = mapped_column(String(2), default="en")
    status: Mapped[str] = mapped_column(String(10), default=ResponseStatus.draft)
    opened_by: Mapped[str] = mapped_column(String(40), default="survey")
    """What opened it: ``survey`` (a person), ``city.signed``, ``event`` (a module filled an indicator), ``demo``."""
    submitted_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    submitted_by: Mapped[UUID | None] = mapped_column(ForeignKey("account_user.id", ondelete="SET NULL"), default=None)
    generated: Mapped[bool] = mapped_column(Boolean, default=False)
    """True for the demo's synthetic cohort (never for a real city's answers)."""


class Answer(AuditedBase):
    """One indicator's answer in a response: the number the engine scores and the text as entered."""

    __tablename__ = "assessment_answer"
    __table_args__ = (
        UniqueConstraint("response_id", "indicator_code", name="uq_assessment_answer_response_id_indicator_code"),
        Index("ix_assessment_answer_indicator_code", "indicator_code"),
    )

    response_id: Mapped[UUID] = mapped_column(ForeignKey("assessment_response.id", ondelete="CASCADE"))
    indicator_code: Mapped[str] = mapped_column(String(60))
    value: Mapped[float | None] = mapped_column(Float, default=None)
    raw: Mapped[str] = mapped_column(String(200), default="")
    source: Mapped[str] = mapped_column(String(10), default=AnswerSource.survey)
    source_detail: Mapped[str] = mapped_column(String(400), default="")
    """Where a value came from, e.g. ``ai_review: technology reviewed on 2026-05-01 (risk class high)``."""
    source_event_id: Mapped[UUID | None] = mapped_column(default=None)
    """The last event that set it (module-sourced answers)."""
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    """What a module-sourced value is computed from, kept so a redelivered event changes nothing
    (e.g. ``{"<event id>": 1}`` per counted event)."""


class AssessmentScore(AuditedBase):
    """The scores of one submitted response, computed over its year's submitted cohort (same framework version)."""

    __tablename__ = "assessment_score"
    __table_args__ = (
        Index("ix_assessment_score_year_size_class", "year", "size_class"),
        Index("ix_assessment_score_city_id_year", "city_id", "year"),
    )

    response_id: Mapped[UUID] = mapped_column(ForeignKey("assessment_response.id", ondelete="CASCADE"), unique=True)
    city_id: Mapped[UUID] = mapped_column(ForeignKey("city.id", ondelete="CASCADE"))
    year: Mapped[int] = mapped_column(Integer)
    framework_version_id: Mapped[UUID] = mapped_column(
        ForeignKey("assessment_framework_version.id", ondelete="RESTRICT")
    )
    size_class: Mapped[str] = mapped_column(String(12))
    country_code: Mapped[str] = mapped_column(String(2))
    index: Mapped[float | None] = mapped_column(Float, default=None)
    coverage: Mapped[float] = mapped_column(Float, default=0.0)
    dimensions: Mapped[dict[str, float | None]] = mapped_column(JSON, default=dict)
    """Top-level dimension code → score on the framework's scale (None when no data)."""
    normalised: Mapped[dict[str, float]] = mapped_column(JSON, default=dict)
    """Indicator code → normalised value (answered, applicable indicators only)."""
    missing: Mapped[list[str]] = mapped_column(JSON, default=list)
    cohort_size: Mapped[int] = mapped_column(Integer, default=0)
    computed_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))


class ScoreSharing(AuditedBase):
    """A city's choice to show its individual scores to its peers (off unless the city opts in)."""

    __tablename__ = "assessment_sharing"

    city_id: Mapped[UUID] = mapped_column(ForeignKey("city.id", ondelete="CASCADE"), unique=True)
    shared: Mapped[bool] = mapped_column(Boolean, default=False)
    decided_by: Mapped[UUID | None] = mapped_column(ForeignKey("account_user.id", ondelete="SET NULL"), default=None)


class IndicatorFeedback(AuditedBase):
    """Pilot feedback of a city on one indicator of a framework version: usability and relevance (1-5)."""

    __tablename__ = "assessment_feedback"
    __table_args__ = (
        UniqueConstraint(
            "city_id", "framework_version_id", "indicator_code", name="uq_assessment_feedback_city_version_indicator"
        ),
        Index("ix_assessment_feedback_framework_version_id_indicator_code", "framework_version_id", "indicator_code"),
    )

    city_id: Mapped[UUID] = mapped_column(ForeignKey("city.id", ondelete="CASCADE"))
    framework_version_id: Mapped[UUID] = mapped_column(
        ForeignKey("assessment_framework_version.id", ondelete="CASCADE")
    )
    indicator_code: Mapped[str] = mapped_column(String(60))
    usability: Mapped[int | None] = mapped_column(Integer, default=None)
    relevance: Mapped[int | None] = mapped_column(Integer, default=None)
    comment: Mapped[str] = mapped_column(Text, default="")
    author_id: Mapped[UUID | None] = mapped_column(ForeignKey("account_user.id", ondelete="SET NULL"), default=None)
