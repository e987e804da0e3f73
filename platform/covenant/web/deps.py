"""Dependencies route handlers declare by name."""

from __future__ import annotations

from uuid import UUID

from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from sqlalchemy.ext.asyncio import AsyncSession

from covenant.cities.models import City
from covenant.i18n import gettext as _

DbSession = NamedDependency[AsyncSession]
"""The request's database session (advanced-alchemy commits it after a successful response)."""


async def load_city(db_session: AsyncSession, city_id: UUID) -> City:
    """The city of a route's ``city_id``, or 404 in the reader's language."""
    city = await db_session.get(City, city_id)
    if city is None:
        raise NotFoundException(_("No such city."))
    return city
