"""Tables of the social-cohesion module (all prefixed ``cohesion_``)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from covenant.db import AuditedBase
from covenant.i18n import N_

# The prevention pyramid of the seed (ORPHEUS model), from its base to its top.
LEVELS: dict[str, str] = {
    "societal_context": N_("Societal context"),
    "fundamental": N_("Fundamental prevention (wellbeing, inclusion)"),
    "general": N_("General prevention"),
    "specific": N_("Specific prevention"),
    "curative": N_("Curative (reaction and repression)"),
}

MEASURE_STATUSES: dict[str, str] = {
    "planned": N_("Planned"),
    "running": N_("Running"),
    "ended": N_("Ended"),
}

# The indicators an evaluation may measure; ``higher_is_better`` decides what counts as an improvement.
INDICATORS: dict[str, dict[str, Any]] = {
    "feeling_of_insecurity": {"label": N_("Feeling of insecurity"), "higher_is_better": False},
    "victimisation": {"label": N_("Victimisation"), "higher_is_better": False},
    "social_cohesion": {"label": N_("Social cohesion scale"), "higher_is_better": True},
    "trust": {"label": N_("Trust in neighbours and institutions"), "higher_is_better": True},
}

DESIGNS: dict[str, str] = {
    "pre_post": N_("Before and after (pre/post)"),
    "pre_post_comparison": N_("Before and after with a comparison area"),
    "repeated": N_("Repeated measures (several follow-up waves)"),
}

VERDICTS: dict[str, str] = {
    "continue": N_("Continue"),
    "adjust": N_("Adjust"),
    "stop": N_("Stop"),
}

AREAS: dict[str, str] = {"intervention": N_("Area of the measure"), "comparison": N_("Comparison area")}
GENDERS = ("female", "male", "other", "unknown")
AGE_GROUPS = ("under_18", "18_29", "30_44", "45_64", "65_plus", "unknown")


class GlossaryTerm(AuditedBase):
    """A concept of the seed's user manual (social cohesion, polarisation...), in several languages."""

    __tablename__ = "cohesion_glossary_term"

    key: Mapped[str] = mapped_column(String(40), unique=True)
    term: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    definition: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    source: Mapped[str] = mapped_column(String(300), default="")


class Measure(AuditedBase):
    """A local measure aiming to reduce insecurity or feelings of insecurity, placed on the pyramid."""

    __tablename__ = "cohesion_measure"
    __table_args__ = (
        Index("ix_cohesion_measure_city_id_created_at", "city_id", "created_at"),
        Index("ix_cohesion_measure_level_city_id", "level", "city_id"),
    )

    city_id: Mapped[UUID] = mapped_column(ForeignKey("city.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    language: Mapped[str] = mapped_column(String(2), default="en")
    level: Mapped[str] = mapped_column(String(20))
    target_group: Mapped[str] = mapped_column(String(200), default="")
    area: Mapped[str] = mapped_column(String(200), default="")
    partners: Mapped[list[str]] = mapped_column(JSON, default=list)
    annual_budget: Mapped[int] = mapped_column(BigInteger, default=0)
    """Euro cents per year."""
    start_date: Mapped[date | None] = mapped_column(Date, default=None)
    status: Mapped[str] = mapped_column(String(10), default="running")
    selected: Mapped[bool] = mapped_column(Boolean, default=False)
    """The one measure of the city chosen for impact measurement."""


class Evaluation(AuditedBase):
    """The impact measurement of one measure (EUCPN toolbox steps), its verdict once completed."""

    __tablename__ = "cohesion_evaluation"

    measure_id: Mapped[UUID] = mapped_column(ForeignKey("cohesion_measure.id", ondelete="CASCADE"), unique=True)
    city_id: Mapped[UUID] = mapped_column(ForeignKey("city.id", ondelete="CASCADE"), index=True)
    problem_analysis: Mapped[str] = mapped_column(Text, default="")
    objectives: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    """A tree: ``[{"text": ..., "children": [...]}]``."""
    logic_model: Mapped[dict[str, list[str]]] = mapped_column(JSON, default=dict)
    """``inputs``, ``activities``, ``outputs``, ``outcomes``: lists of lines."""
    indicators: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    """``[{"key": "feeling_of_insecurity", "objective": "..."}]``."""
    design: Mapped[str] = mapped_column(String(24), default="pre_post")
    verdict: Mapped[str | None] = mapped_column(String(10), default=None)
    verdict_reasons: Mapped[str] = mapped_column(Text, default="")
    effect: Mapped[float | None] = mapped_column(Float, default=None)
    """Hedges' g of the headline indicator when completed."""
    completed_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)


class SurveyWave(AuditedBase):
    """Aggregated values of one indicator, in one area, at one wave (0 = baseline)."""

    __tablename__ = "cohesion_survey_wave"
    __table_args__ = (
        UniqueConstraint("evaluation_id", "indicator", "area", "wave", name="uq_cohesion_survey_wave_key"),
    )

    evaluation_id: Mapped[UUID] = mapped_column(ForeignKey("cohesion_evaluation.id", ondelete="CASCADE"))
    indicator: Mapped[str] = mapped_column(String(30))
    area: Mapped[str] = mapped_column(String(12), default="intervention")
    wave: Mapped[int] = mapped_column(Integer)
    mean: Mapped[float] = mapped_column(Float)
    sd: Mapped[float] = mapped_column(Float)
    n: Mapped[int] = mapped_column(Integer)
    from_respondents: Mapped[bool] = mapped_column(Boolean, default=False)


class SurveyResponse(AuditedBase):
    """One respondent's answer (uploaded CSV), kept for breakdowns by gender and age group."""

    __tablename__ = "cohesion_survey_response"
    __table_args__ = (Index("ix_cohesion_survey_response_evaluation_id_wave", "evaluation_id", "wave"),)

    evaluation_id: Mapped[UUID] = mapped_column(ForeignKey("cohesion_evaluation.id", ondelete="CASCADE"))
    indicator: Mapped[str] = mapped_column(String(30))
    area: Mapped[str] = mapped_column(String(12))
    wave: Mapped[int] = mapped_column(Integer)
    value: Mapped[float] = mapped_column(Float)
    gender: Mapped[str] = mapped_column(String(10), default="unknown")
    age_group: Mapped[str] = mapped_column(String(10), default="unknown")


class Initiative(AuditedBase):
    """A Collective Impact initiative on a complex problem existing projects do not move."""

    __tablename__ = "cohesion_initiative"
    __table_args__ = (Index("ix_cohesion_initiative_city_id_created_at", "city_id", "created_at"),)

    city_id: Mapped[UUID] = mapped_column(ForeignKey("city.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    problem: Mapped[str] = mapped_column(Text, default="")
    partners: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    """``[{"name": ..., "sector": ...}]``."""


class RubricScore(AuditedBase):
    """A dated scoring (0-4) of the five conditions and three preconditions of Collective Impact."""

    __tablename__ = "cohesion_rubric_score"
    __table_args__ = (Index("ix_cohesion_rubric_score_initiative_id_scored_on", "initiative_id", "scored_on"),)

    initiative_id: Mapped[UUID] = mapped_column(ForeignKey("cohesion_initiative.id", ondelete="CASCADE"))
    scored_on: Mapped[date] = mapped_column(Date)
    scores: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    notes: Mapped[str] = mapped_column(Text, default="")


class SwotBoard(AuditedBase):
    """A SWOT workshop board for a multi-stakeholder group."""

    __tablename__ = "cohesion_swot_board"

    title: Mapped[str] = mapped_column(String(200))
    city_id: Mapped[UUID | None] = mapped_column(ForeignKey("city.id", ondelete="CASCADE"), default=None)
    initiative_id: Mapped[UUID | None] = mapped_column(
        ForeignKey("cohesion_initiative.id", ondelete="SET NULL"), default=None
    )


class SwotEntry(AuditedBase):
    """One post-it on the board, in one quadrant, with its votes."""

    __tablename__ = "cohesion_swot_entry"
    __table_args__ = (Index("ix_cohesion_swot_entry_board_id_quadrant", "board_id", "quadrant"),)

    board_id: Mapped[UUID] = mapped_column(ForeignKey("cohesion_swot_board.id", ondelete="CASCADE"))
    quadrant: Mapped[str] = mapped_column(String(14))
    text: Mapped[str] = mapped_column(String(500))
    votes: Mapped[int] = mapped_column(Integer, default=0)


class SwotVote(AuditedBase):
    """Who voted for which entry (one vote per person and entry)."""

    __tablename__ = "cohesion_swot_vote"
    __table_args__ = (UniqueConstraint("entry_id", "voter_id", name="uq_cohesion_swot_vote_entry_voter"),)

    entry_id: Mapped[UUID] = mapped_column(ForeignKey("cohesion_swot_entry.id", ondelete="CASCADE"))
    voter_id: Mapped[UUID] = mapped_column(ForeignKey("account_user.id", ondelete="CASCADE"))


class Lesson(AuditedBase):
    """A lesson learned from an evaluation or an initiative, published for the training toolbox."""

    __tablename__ = "cohesion_lesson"
    __table_args__ = (Index("ix_cohesion_lesson_published_at_id", "published_at", "id"),)

    city_id: Mapped[UUID] = mapped_column(ForeignKey("city.id", ondelete="CASCADE"))
    evaluation_id: Mapped[UUID | None] = mapped_column(
        ForeignKey("cohesion_evaluation.id", ondelete="SET NULL"), default=None
    )
    initiative_id: Mapped[UUID | None] = mapped_column(
        ForeignKey("cohesion_initiative.id", ondelete="SET NULL"), default=None
    )
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    language: Mapped[str] = mapped_column(String(2), default="en")
    published_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
