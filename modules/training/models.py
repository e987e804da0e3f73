"""The competence matrix, curricula, pilot training sessions, satisfaction answers and self-assessments."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from uuid import UUID

from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from covenant.db import AuditedBase
from covenant.i18n import N_


class Level(StrEnum):
    """The three graduations of Table 4."""

    basic = "basic"
    intermediate = "intermediate"
    advanced = "advanced"

    @property
    def rank(self) -> int:
        return LEVEL_RANK[self]


LEVEL_RANK: dict[str, int] = {"basic": 1, "intermediate": 2, "advanced": 3}
LEVEL_LABELS: dict[str, str] = {"basic": N_("Basic"), "intermediate": N_("Intermediate"), "advanced": N_("Advanced")}
AREAS: tuple[str, ...] = ("knowledge", "know_how", "interpersonal")


class CurriculumStatus(StrEnum):
    draft = "draft"
    in_review = "in_review"
    published = "published"


CURRICULUM_STATUS_LABELS: dict[str, str] = {
    "draft": N_("Draft"),
    "in_review": N_("In review"),
    "published": N_("Published"),
}

LIKERT_ITEMS: tuple[str, ...] = ("relevance", "quality", "trainers", "organisation", "applicability")
LIKERT_LABELS: dict[str, str] = {
    "relevance": N_("The training was relevant to my work"),
    "quality": N_("The content was of good quality"),
    "trainers": N_("The trainers were competent and clear"),
    "organisation": N_("The training was well organised"),
    "applicability": N_("I can apply what I learned in my daily work"),
}


class TargetGroup(AuditedBase):
    """A row of the competence matrix: a target group (profile) within a target family."""

    __tablename__ = "training_target_group"
    __table_args__ = (UniqueConstraint("key", name="uq_training_target_group_key"),)

    key: Mapped[str] = mapped_column(String(60))
    family: Mapped[str] = mapped_column(String(60))
    family_title: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    title: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    position: Mapped[int] = mapped_column(Integer, default=0)
    from_action_plan: Mapped[bool] = mapped_column(Boolean, default=False)
    """True for the rows transcribed from Table 4; False for profiles admins added later."""


class MatrixCell(AuditedBase):
    """The level a target group needs in one knowledge area, and the area's topics it covers."""

    __tablename__ = "training_matrix_cell"
    __table_args__ = (UniqueConstraint("target_group_id", "area", name="uq_training_matrix_cell_group_area"),)

    target_group_id: Mapped[UUID] = mapped_column(ForeignKey("training_target_group.id", ondelete="CASCADE"))
    area: Mapped[str] = mapped_column(String(20))
    level: Mapped[str] = mapped_column(String(12))
    topics: Mapped[list[str]] = mapped_column(JSON, default=list)


class Curriculum(AuditedBase):
    """A training curriculum for one or more target groups, authored by a lead city (and partner cities)."""

    __tablename__ = "training_curriculum"
    __table_args__ = (Index("ix_training_curriculum_city_id_created_at", "city_id", "created_at"),)

    city_id: Mapped[UUID] = mapped_column(ForeignKey("city.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text, default="")
    language: Mapped[str] = mapped_column(String(2), default="en")
    target_groups: Mapped[list[str]] = mapped_column(JSON, default=list)
    """Keys of the target groups it is written for."""
    partner_city_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    """Cities co-authoring it (a joint curriculum)."""
    toolbox_entry_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    """Toolbox resources trainers attached to it."""
    status: Mapped[str] = mapped_column(String(12), default=CurriculumStatus.draft)
    published_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)


class CurriculumUnit(AuditedBase):
    """A unit of a curriculum, mapped to one cell of the matrix and a level."""

    __tablename__ = "training_curriculum_unit"
    __table_args__ = (Index("ix_training_curriculum_unit_curriculum_id", "curriculum_id"),)

    curriculum_id: Mapped[UUID] = mapped_column(ForeignKey("training_curriculum.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    target_group: Mapped[str] = mapped_column(String(60))
    area: Mapped[str] = mapped_column(String(20))
    level: Mapped[str] = mapped_column(String(12))
    learning_outcomes: Mapped[str] = mapped_column(Text, default="")
    hours: Mapped[int] = mapped_column(Integer, default=1)
    method: Mapped[str] = mapped_column(String(200), default="")
    materials: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(Integer, default=0)


class TrainingSession(AuditedBase):
    """A pilot training: one run of a curriculum in a city, with its participants and its questionnaire."""

    __tablename__ = "training_session"
    __table_args__ = (Index("ix_training_session_city_id_starts_on", "city_id", "starts_on"),)

    city_id: Mapped[UUID] = mapped_column(ForeignKey("city.id", ondelete="CASCADE"))
    curriculum_id: Mapped[UUID] = mapped_column(ForeignKey("training_curriculum.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    place: Mapped[str] = mapped_column(String(200), default="")
    online: Mapped[bool] = mapped_column(Boolean, default=False)
    trainers: Mapped[str] = mapped_column(String(400), default="")
    capacity: Mapped[int] = mapped_column(Integer, default=20)
    questionnaire_closed_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    feedback_actions: Mapped[str] = mapped_column(Text, default="")
    """What the organisers change after reading the answers (the Action Plan's 'feedback actions')."""


class Participant(AuditedBase):
    """Someone registered by their city for a session; needs no account, answers through a personal link."""

    __tablename__ = "training_participant"
    __table_args__ = (
        Index("ix_training_participant_session_id_created_at", "session_id", "created_at"),
        UniqueConstraint("token", name="uq_training_participant_token"),
    )

    session_id: Mapped[UUID] = mapped_column(ForeignKey("training_session.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254), default="")
    target_group: Mapped[str] = mapped_column(String(60), default="")
    waiting_list: Mapped[bool] = mapped_column(Boolean, default=False)
    attended: Mapped[bool] = mapped_column(Boolean, default=False)
    token: Mapped[str] = mapped_column(String(64))
    answered: Mapped[bool] = mapped_column(Boolean, default=False)
    """Whether the personal link was used; the answer itself is stored apart, without a link back."""


class QuestionnaireAnswer(AuditedBase):
    """One anonymous answer to a session's satisfaction questionnaire (no participant reference, by design)."""

    __tablename__ = "training_questionnaire_answer"
    __table_args__ = (Index("ix_training_questionnaire_answer_session_id", "session_id"),)

    session_id: Mapped[UUID] = mapped_column(ForeignKey("training_session.id", ondelete="CASCADE"))
    scores: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    liked: Mapped[str] = mapped_column(Text, default="")
    improve: Mapped[str] = mapped_column(Text, default="")


class SelfAssessment(AuditedBase):
    """A person's rating of their own level per knowledge area for a profile, with an optional supervisor rating.

    Only aggregates leave it: the person is known by a personal link (or their account), never shown to others."""

    __tablename__ = "training_self_assessment"
    __table_args__ = (
        Index("ix_training_self_assessment_city_id_target_group", "city_id", "target_group"),
        Index("ix_training_self_assessment_user_id_created_at", "user_id", "created_at"),
        UniqueConstraint("token", name="uq_training_self_assessment_token"),
    )

    city_id: Mapped[UUID] = mapped_column(ForeignKey("city.id", ondelete="CASCADE"))
    target_group: Mapped[str] = mapped_column(String(60))
    phase: Mapped[str] = mapped_column(String(10), default="standalone")
    """before / after a training, or standalone."""
    session_id: Mapped[UUID | None] = mapped_column(
        ForeignKey("training_session.id", ondelete="SET NULL"), default=None
    )
    user_id: Mapped[UUID | None] = mapped_column(ForeignKey("account_user.id", ondelete="SET NULL"), default=None)
    token: Mapped[str] = mapped_column(String(64))
    own_levels: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    """area → level the person gives themself; empty until answered."""
    supervisor_levels: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    own_topics: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    """"area.topic" → level, when the person rated the topics of their profile's cells (then ``own_levels`` holds
    each area's level derived from its topics)."""
    supervisor_topics: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    completed_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)


class ToolboxEntry(AuditedBase):
    """A resource for trainers: lessons learned from other actions (``cohesion.lessons_published``) and more."""

    __tablename__ = "training_toolbox_entry"
    __table_args__ = (UniqueConstraint("source", "source_key", name="uq_training_toolbox_entry_source_key"),)

    source: Mapped[str] = mapped_column(String(40))
    source_key: Mapped[str] = mapped_column(String(100))
    city_id: Mapped[UUID | None] = mapped_column(ForeignKey("city.id", ondelete="SET NULL"), default=None)
    title: Mapped[str] = mapped_column(String(300))
    summary: Mapped[str] = mapped_column(Text, default="")
    link: Mapped[str] = mapped_column(String(500), default="")
    areas: Mapped[list[str]] = mapped_column(JSON, default=list)


class AssessmentPriority(AuditedBase):
    """A city's weak dimensions from its yearly assessment (``assessment.submitted``), mapped to knowledge areas
    so curricula addressing them can be recommended."""

    __tablename__ = "training_assessment_priority"
    __table_args__ = (UniqueConstraint("city_id", "year", name="uq_training_assessment_priority_city_year"),)

    city_id: Mapped[UUID] = mapped_column(ForeignKey("city.id", ondelete="CASCADE"))
    year: Mapped[int] = mapped_column(Integer)
    weak_dimensions: Mapped[list[str]] = mapped_column(JSON, default=list)
    areas: Mapped[list[str]] = mapped_column(JSON, default=list)
