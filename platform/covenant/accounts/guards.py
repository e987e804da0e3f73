"""The one guard every route uses: who may call it is declared on the route and checked here.

Usage: ``@get("/x", guards=[requires("commitment.edit", city_param="city_id")])`` or
``guards=[admin_only]``. The identity is resolved once per request by the accounts middleware and put in
``scope["identity"]``; anonymous requests carry :data:`ANONYMOUS`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler

from covenant.accounts.identity import ANONYMOUS, Identity

Guard = Callable[[ASGIConnection[Any, Any, Any, Any], BaseRouteHandler], None]


def identity_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Identity:
    identity = connection.scope.get("identity")
    return identity if isinstance(identity, Identity) else ANONYMOUS


def signed_in(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    if not identity_of(connection).is_authenticated:
        raise NotAuthorizedException("Sign in to continue.")


def admin_only(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    identity = identity_of(connection)
    if not identity.is_authenticated:
        raise NotAuthorizedException("Sign in to continue.")
    if not identity.is_admin:
        raise PermissionDeniedException("Only the secretariat's administrators may do this.")


def requires(permission: str, *, city_param: str | None = None, module: str | None = None) -> Guard:
    """A guard granting access when the identity holds ``permission``; when ``city_param`` names a path
    parameter, only for that city (a city's editor can never touch another city's data)."""

    def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        identity = identity_of(connection)
        if not identity.is_authenticated:
            raise NotAuthorizedException("Sign in to continue.")
        city_id: UUID | None = None
        if city_param is not None:
            raw = connection.path_params.get(city_param)
            try:
                city_id = raw if isinstance(raw, UUID) else UUID(str(raw))
            except ValueError as exc:
                raise PermissionDeniedException("Unknown city.") from exc
        if not identity.can(permission, city_id=city_id, module=module):
            raise PermissionDeniedException("You do not have permission to do this.")

    guard.__name__ = f"requires_{permission.replace('.', '_')}"
    return guard
