"""The good-practice library: fiches (visual before/after case studies), their SMART indicators, images and
review comments, and the collection campaigns that invite cities to submit them."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from uuid import UUID

from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import JSON, Date, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from covenant.db import AuditedBase
from covenant.i18n import N_


class FicheStatus(StrEnum):
    """Where a fiche stands in its review; only ``published`` fiches are public."""

    draft = "draft"
    submitted = "submitted"
    in_review = "in_review"
    changes_requested = "changes_requested"
    published = "published"
    rejected = "rejected"


STATUS_LABELS: dict[str, str] = {
    FicheStatus.draft: N_("Draft"),
    FicheStatus.submitted: N_("Submitted"),
    FicheStatus.in_review: N_("In review"),
    FicheStatus.changes_requested: N_("Changes requested"),
    FicheStatus.published: N_("Published"),
    FicheStatus.rejected: N_("Rejected"),
}

EDITABLE = frozenset({FicheStatus.draft, FicheStatus.changes_requested})

PLACE_KINDS: dict[str, str] = {
    "square": N_("Square"),
    "street": N_("Street"),
    "park": N_("Park"),
    "transport_hub": N_("Transport hub"),
    "event_venue": N_("Event venue"),
    "school_surroundings": N_("School surroundings"),
    "waterfront": N_("Waterfront"),
    "city_centre": N_("City centre"),
    "neighbourhood": N_("Neighbourhood"),
    "other": N_("Other"),
}

MEASURES: dict[str, str] = {
    "hostile_vehicle_mitigation": N_("Hostile-vehicle mitigation and barriers"),
    "lighting": N_("Lighting"),
    "street_furniture": N_("Street furniture"),
    "vegetation": N_("Vegetation"),
    "sight_lines": N_("Sight lines"),
    "cpted": N_("Crime prevention through environmental design (CPTED)"),
    "nudging": N_("Nudging"),
    "technology": N_("Technology"),
    "management_events": N_("Management and events"),
    "governance_partnership": N_("Governance and partnership"),
    "training": N_("Training and awareness"),
}

COST_RANGES: dict[str, str] = {
    "": N_("Not stated"),
    "below_100k": N_("Below €100,000"),
    "100k_1m": N_("€100,000 to €1 million"),
    "1m_5m": N_("€1 million to €5 million"),
    "above_5m": N_("Above €5 million"),
}


class ImageStage(StrEnum):
    before = "before"
    after = "after"


class PracticeFiche(AuditedBase):
    """A good practice described as a visual, SMART case study: problem, measures, process, outcome."""

    __tablename__ = "practices_fiche"
    __table_args__ = (
        Index("ix_practices_fiche_status_published_at", "status", "published_at"),
        Index("ix_practices_fiche_city_id_updated_at", "city_id", "updated_at"),
    )

    city_id: Mapped[UUID | None] = mapped_column(ForeignKey("city.id", ondelete="CASCADE"), default=None)
    """The city the practice comes from (None: a project fiche entered by the secretariat)."""
    title: Mapped[str] = mapped_column(String(200))
    project: Mapped[str] = mapped_column(String(200), default="")
    """The project or programme it belongs to (PACTESUR, PERICLES, ...)."""
    summary: Mapped[str] = mapped_column(Text, default="")
    place_kind: Mapped[str] = mapped_column(String(30), default="other")
    problem: Mapped[str] = mapped_column(Text, default="")
    measures: Mapped[list[str]] = mapped_column(JSON, default=list)
    partnership: Mapped[str] = mapped_column(Text, default="")
    outcome: Mapped[str] = mapped_column(Text, default="")
    cost_range: Mapped[str] = mapped_column(String(20), default="")
    duration_months: Mapped[int | None] = mapped_column(Integer, default=None)
    difficulties: Mapped[str] = mapped_column(Text, default="")
    lessons: Mapped[str] = mapped_column(Text, default="")
    links: Mapped[list[str]] = mapped_column(JSON, default=list)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    language: Mapped[str] = mapped_column(String(2), default="en")
    """The language the fiche is written in."""
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    """Languages the material of the practice exists in."""
    year: Mapped[int | None] = mapped_column(Integer, default=None)
    """The year the measures were delivered (a search facet)."""
    status: Mapped[str] = mapped_column(String(20), default=FicheStatus.draft)
    submitted_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    published_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    reviewer_id: Mapped[UUID | None] = mapped_column(ForeignKey("account_user.id", ondelete="SET NULL"), default=None)
    search_text: Mapped[str] = mapped_column(Text, default="")
    """Every searchable field in one text, indexed by the full-text search of the database."""


class SmartIndicator(AuditedBase):
    """A measured outcome: baseline and after values, each dated."""

    __tablename__ = "practices_indicator"
    __table_args__ = (Index("ix_practices_indicator_fiche_id", "fiche_id"),)

    fiche_id: Mapped[UUID] = mapped_column(ForeignKey("practices_fiche.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    unit: Mapped[str] = mapped_column(String(40), default="")
    baseline_value: Mapped[float] = mapped_column(Float)
    baseline_date: Mapped[date] = mapped_column(Date)
    after_value: Mapped[float] = mapped_column(Float)
    after_date: Mapped[date] = mapped_column(Date)


class FicheImage(AuditedBase):
    """A before or after picture, stored outside the web root under a random name, with its thumbnail."""

    __tablename__ = "practices_image"
    __table_args__ = (Index("ix_practices_image_fiche_id_stage", "fiche_id", "stage"),)

    fiche_id: Mapped[UUID] = mapped_column(ForeignKey("practices_fiche.id", ondelete="CASCADE"))
    stage: Mapped[str] = mapped_column(String(6))
    caption: Mapped[str] = mapped_column(String(300), default="")
    alt_text: Mapped[str] = mapped_column(String(300))
    stored_name: Mapped[str] = mapped_column(String(80))
    thumbnail_name: Mapped[str] = mapped_column(String(80))
    content_type: Mapped[str] = mapped_column(String(40))
    size_bytes: Mapped[int] = mapped_column(Integer)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)


class ReviewComment(AuditedBase):
    """A reviewer's (or the city's) word on a fiche, with the decision it came with, if any."""

    __tablename__ = "practices_review_comment"
    __table_args__ = (Index("ix_practices_review_comment_fiche_id_created_at", "fiche_id", "created_at"),)

    fiche_id: Mapped[UUID] = mapped_column(ForeignKey("practices_fiche.id", ondelete="CASCADE"))
    author_id: Mapped[UUID | None] = mapped_column(ForeignKey("account_user.id", ondelete="SET NULL"), default=None)
    author_name: Mapped[str] = mapped_column(String(160), default="")
    decision: Mapped[str] = mapped_column(String(20), default="comment")
    body: Mapped[str] = mapped_column(Text, default="")


class CollectionCampaign(AuditedBase):
    """A call to cities to submit fiches by a deadline (the seed's collection survey)."""

    __tablename__ = "practices_campaign"

    title: Mapped[str] = mapped_column(String(200))
    message: Mapped[str] = mapped_column(Text, default="")
    deadline: Mapped[date] = mapped_column(Date)
    invite_new_signatories: Mapped[bool] = mapped_column(default=True)
    """Whether cities that sign while the campaign is open are invited automatically."""


class CampaignInvitation(AuditedBase):
    """One city invited to a campaign; answered when it submits a fiche after the invitation."""

    __tablename__ = "practices_campaign_invitation"
    __table_args__ = (UniqueConstraint("campaign_id", "city_id"),)

    campaign_id: Mapped[UUID] = mapped_column(ForeignKey("practices_campaign.id", ondelete="CASCADE"))
    city_id: Mapped[UUID] = mapped_column(ForeignKey("city.id", ondelete="CASCADE"))
    answered_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)


class PeerRecommendation(AuditedBase):
    """A published fiche of a peer city recommended to a city for one of its weakest assessed dimensions."""

    __tablename__ = "practices_recommendation"
    __table_args__ = (
        UniqueConstraint("city_id", "fiche_id"),
        Index("ix_practices_recommendation_city_id_created_at", "city_id", "created_at"),
    )

    city_id: Mapped[UUID] = mapped_column(ForeignKey("city.id", ondelete="CASCADE"))
    fiche_id: Mapped[UUID] = mapped_column(ForeignKey("practices_fiche.id", ondelete="CASCADE"))
    dimension: Mapped[str] = mapped_column(String(60))
    reason: Mapped[str] = mapped_column(String(300))
    year: Mapped[int | None] = mapped_column(Integer, default=None)


class CommitmentLink(AuditedBase):
    """A published fiche related to a city's published commitment (made on ``commitment.published``)."""

    __tablename__ = "practices_commitment_link"
    __table_args__ = (
        UniqueConstraint("commitment_id", "fiche_id"),
        Index("ix_practices_commitment_link_fiche_id_score", "fiche_id", "score"),
    )

    commitment_id: Mapped[UUID] = mapped_column(ForeignKey("commitment.id", ondelete="CASCADE"))
    fiche_id: Mapped[UUID] = mapped_column(ForeignKey("practices_fiche.id", ondelete="CASCADE"))
    city_id: Mapped[UUID | None] = mapped_column(ForeignKey("city.id", ondelete="CASCADE"), default=None)
    """The commitment's city."""
    score: Mapped[int] = mapped_column(Integer, default=0)
    reason: Mapped[str] = mapped_column(String(300), default="")


class FicheDocument(AuditedBase):
    """A PDF attached to a fiche (report, plan, leaflet), stored outside the web root under a random name."""

    __tablename__ = "practices_document"
    __table_args__ = (Index("ix_practices_document_fiche_id_created_at", "fiche_id", "created_at"),)

    fiche_id: Mapped[UUID] = mapped_column(ForeignKey("practices_fiche.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    original_name: Mapped[str] = mapped_column(String(200), default="")
    stored_name: Mapped[str] = mapped_column(String(80))
    size_bytes: Mapped[int] = mapped_column(Integer)
