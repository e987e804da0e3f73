"""Dependencies route handlers declare by name."""

from __future__ import annotations

from litestar.di import NamedDependency
from sqlalchemy.ext.asyncio import AsyncSession

DbSession = NamedDependency[AsyncSession]
"""The request's database session (advanced-alchemy commits it after a successful response)."""
