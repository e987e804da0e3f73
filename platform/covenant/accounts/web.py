"""Sign-in, sign-out, password reset, account page and API tokens. (Placeholder until accounts land.)"""

from __future__ import annotations

from typing import Any

from litestar.config.csrf import CSRFConfig
from litestar.types import ControllerRouterHandler

from covenant.config import Settings

route_handlers: list[ControllerRouterHandler] = []


def middleware(settings: Settings) -> list[Any]:
    """Session and identity middleware, outermost first."""
    return []


def csrf_config(settings: Settings) -> CSRFConfig | None:
    return None
