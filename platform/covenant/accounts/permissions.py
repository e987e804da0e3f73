"""The core's permissions and which core role holds each (DESIGN.md §4).

Modules add their own with ``Permission(name, description, roles)``; :func:`permissions_by_role` merges
both into the table :class:`~covenant.accounts.identity.Identity` checks against.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from covenant.plugins import CoreRole, Permission

CITY_EDIT_PROFILE = "city.edit_profile"
MEMBERSHIP_APPLY = "membership.apply"
MEMBERSHIP_DECIDE = "membership.decide"
COMMITMENT_EDIT = "commitment.edit"
COMMITMENT_PUBLISH = "commitment.publish"
CYCLE_SUBMIT = "cycle.submit"
CYCLE_MANAGE = "cycle.manage"
MODULE_EDIT = "module.edit"
"""Enter and edit a city's data in a module (a contributor's grant may narrow it to some modules)."""
MODULE_REVIEW = "module.review"
"""Review and publish a module's submissions across cities."""
USERS_MANAGE = "users.manage"
ADMIN = "admin"

ROLES: tuple[CoreRole, ...] = ("admin", "mayors_office", "contributor", "reviewer")
ROLE_LABELS: Mapping[CoreRole, str] = {
    "admin": "Administrator",
    "mayors_office": "Mayor's office",
    "contributor": "Contributor",
    "reviewer": "Reviewer",
}

CORE_PERMISSIONS: Mapping[CoreRole, frozenset[str]] = {
    "contributor": frozenset({MODULE_EDIT}),
    "mayors_office": frozenset(
        {
            MODULE_EDIT,
            CITY_EDIT_PROFILE,
            MEMBERSHIP_APPLY,
            COMMITMENT_EDIT,
            COMMITMENT_PUBLISH,
            CYCLE_SUBMIT,
        }
    ),
    "reviewer": frozenset({MODULE_REVIEW}),
    # Identity.can() lets admins do everything; listing the platform-wide ones keeps the table readable.
    "admin": frozenset({ADMIN, MEMBERSHIP_DECIDE, CYCLE_MANAGE, USERS_MANAGE}),
}


def permissions_by_role(module_permissions: Iterable[Permission] = ()) -> dict[str, frozenset[str]]:
    """The core table merged with the permissions the enabled modules declare."""
    table: dict[str, set[str]] = {role: set(names) for role, names in CORE_PERMISSIONS.items()}
    for permission in module_permissions:
        for role in permission.roles:
            table.setdefault(role, set()).add(permission.name)
    return {role: frozenset(names) for role, names in table.items()}
