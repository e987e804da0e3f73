"""Who is asking: the identity every route and template sees, resolved once per request."""

from __future__ import annotations

from dataclasses import dataclass, field
from uuid import UUID

from covenant.plugins import CoreRole


@dataclass(frozen=True)
class Grant:
    """A role held by a user: per city (contributor, mayor's office) or per module (reviewer)."""

    role: CoreRole
    city_id: UUID | None = None
    module: str | None = None
    modules: tuple[str, ...] = ()
    """For a contributor: the modules of that city they may edit (empty: all)."""


@dataclass(frozen=True)
class Identity:
    user_id: UUID | None = None
    email: str = ""
    display_name: str = ""
    locale: str | None = None
    grants: tuple[Grant, ...] = ()
    permissions_by_role: dict[str, frozenset[str]] = field(default_factory=dict)
    """Filled by the accounts service from the core and module permission tables."""

    @property
    def is_authenticated(self) -> bool:
        return self.user_id is not None

    @property
    def is_admin(self) -> bool:
        return any(g.role == "admin" for g in self.grants)

    def cities(self) -> set[UUID]:
        return {g.city_id for g in self.grants if g.city_id is not None}

    def can(self, permission: str, *, city_id: UUID | None = None, module: str | None = None) -> bool:
        """True when one of the user's grants gives ``permission`` in that scope.

        A city-scoped permission needs a grant on that very city; a module-scoped one (reviewer)
        needs a grant on that module. Admins may do everything.
        """
        if self.is_admin:
            return True
        for grant in self.grants:
            if permission not in self.permissions_by_role.get(grant.role, frozenset()):
                continue
            if city_id is not None and grant.city_id != city_id:
                continue
            if grant.role == "reviewer" and module is not None and grant.module != module:
                continue
            if grant.role == "contributor" and module is not None and grant.modules and module not in grant.modules:
                continue
            return True
        return False


ANONYMOUS = Identity()
