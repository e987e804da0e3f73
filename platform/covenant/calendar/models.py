"""Tables of the convention calendar: editions of the annual convention, their agenda, the delegates
registered by mayors' offices, the deadlines every part of the platform announces, and personal feed tokens.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from uuid import UUID

from advanced_alchemy.types import DateTimeUTC, JsonB
from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from covenant.db import AuditedBase
from covenant.i18n import N_


class EditionStatus(StrEnum):
    draft = "draft"
    announced = "announced"
    registration_open = "registration_open"
    closed = "closed"
    held = "held"


EDITION_STATUS_LABELS: dict[str, str] = {
    EditionStatus.draft: N_("Draft"),
    EditionStatus.announced: N_("Announced"),
    EditionStatus.registration_open: N_("Open for registration"),
    EditionStatus.closed: N_("Registration closed"),
    EditionStatus.held: N_("Held"),
}
PUBLIC_STATUSES = (EditionStatus.announced, EditionStatus.registration_open, EditionStatus.closed, EditionStatus.held)


class RegistrationStatus(StrEnum):
    confirmed = "confirmed"
    waiting = "waiting"
    cancelled = "cancelled"


REGISTRATION_STATUS_LABELS: dict[str, str] = {
    RegistrationStatus.confirmed: N_("Confirmed"),
    RegistrationStatus.waiting: N_("On the waiting list"),
    RegistrationStatus.cancelled: N_("Cancelled"),
}


class Audience(StrEnum):
    all = "all"
    city = "city"
    admins = "admins"


AUDIENCE_LABELS: dict[str, str] = {
    Audience.all: N_("All signatories"),
    Audience.city: N_("One city"),
    Audience.admins: N_("Administrators"),
}


class ConventionEdition(AuditedBase):
    """One year's convention gathering the mayors."""

    __tablename__ = "convention_edition"
    __table_args__ = (Index("ix_convention_edition_status_year", "status", "year"),)

    year: Mapped[int] = mapped_column(Integer, unique=True)
    title: Mapped[str] = mapped_column(String(200))
    host_city_id: Mapped[UUID | None] = mapped_column(ForeignKey("city.id", ondelete="SET NULL"), default=None)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    timezone: Mapped[str] = mapped_column(String(40), default="Europe/Brussels")
    """Where the convention takes place: agenda times are entered and shown in this zone, stored in UTC."""
    venue: Mapped[str] = mapped_column(String(200), default="")
    theme: Mapped[str] = mapped_column(String(300), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default=EditionStatus.draft)
    capacity: Mapped[int] = mapped_column(Integer, default=200)
    """Delegates admitted; further registrations go to the waiting list."""


class AgendaSession(AuditedBase):
    """One session of an edition's agenda."""

    __tablename__ = "convention_session"
    __table_args__ = (Index("ix_convention_session_edition_starts", "edition_id", "starts_at"),)

    edition_id: Mapped[UUID] = mapped_column(ForeignKey("convention_edition.id", ondelete="CASCADE"))
    starts_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    ends_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    title: Mapped[str] = mapped_column(String(200))
    room: Mapped[str] = mapped_column(String(120), default="")
    speakers: Mapped[str] = mapped_column(String(500), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    commitment_ids: Mapped[list[str]] = mapped_column(JsonB, default=list)
    """Ids of linked commitments, kept as a JSON list rather than foreign keys: the commitment table is
    owned by another part and a session may outlive a withdrawn commitment."""


class Registration(AuditedBase):
    """A delegate registered by a mayor's office; first come, first served, then the waiting list."""

    __tablename__ = "convention_registration"
    __table_args__ = (
        UniqueConstraint("edition_id", "email", name="uq_convention_registration_edition_email"),
        Index("ix_convention_registration_edition_status_at", "edition_id", "status", "registered_at"),
        Index("ix_convention_registration_city_edition", "city_id", "edition_id"),
    )

    edition_id: Mapped[UUID] = mapped_column(ForeignKey("convention_edition.id", ondelete="CASCADE"))
    city_id: Mapped[UUID] = mapped_column(ForeignKey("city.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(160))
    email: Mapped[str] = mapped_column(String(254))
    role: Mapped[str] = mapped_column(String(120), default="")
    status: Mapped[str] = mapped_column(String(12), default=RegistrationStatus.confirmed)
    registered_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    registered_by: Mapped[UUID | None] = mapped_column(default=None)


class Deadline(AuditedBase):
    """A date someone must meet, announced by the core or a module (``deadline.announced``)."""

    __tablename__ = "calendar_deadline"
    __table_args__ = (
        UniqueConstraint("source", "key", name="uq_calendar_deadline_source_key"),
        Index("ix_calendar_deadline_due_on", "due_on"),
        Index("ix_calendar_deadline_audience_due_on", "audience", "due_on"),
        Index("ix_calendar_deadline_city_due_on", "city_id", "due_on"),
    )

    source: Mapped[str] = mapped_column(String(40))
    """``core`` or the announcing module's slug."""
    key: Mapped[str] = mapped_column(String(120))
    """The announcer's own name for the deadline: announcing the same (source, key) again updates it."""
    title: Mapped[str] = mapped_column(String(200))
    due_on: Mapped[date] = mapped_column(Date)
    audience: Mapped[str] = mapped_column(String(10), default=Audience.all)
    city_id: Mapped[UUID | None] = mapped_column(ForeignKey("city.id", ondelete="CASCADE"), default=None)
    link: Mapped[str] = mapped_column(String(500), default="")
    description: Mapped[str] = mapped_column(Text, default="")


class FeedToken(AuditedBase):
    """The secret of a user's personal iCalendar feed, stored as a SHA-256 digest."""

    __tablename__ = "calendar_feed_token"

    user_id: Mapped[UUID] = mapped_column(ForeignKey("account_user.id", ondelete="CASCADE"), unique=True)
    nonce: Mapped[str] = mapped_column(String(32))
    """Changing it (regenerating) derives a new secret; the old URL stops working."""
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
