"""The city registry: every local or regional authority the Covenant knows, signatory or not."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import Float, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from covenant.db import AuditedBase


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


class City(AuditedBase):
    """A municipality, metropolitan or regional authority. Whether it is a signatory is its membership's
    business; this row is the registry entry that memberships, commitments and modules point at."""

    __tablename__ = "city"
    __table_args__ = (
        Index("ix_city_country_name", "country_code", "name"),
        Index("ix_city_size_class_name", "size_class", "name"),
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

    @property
    def density(self) -> float | None:
        """Inhabitants per km²."""
        if not self.area_km2:
            return None
        return self.population / self.area_km2
