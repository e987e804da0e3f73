"""Pages and JSON routes of this part of the core. (Placeholder: filled in as the part lands.)"""

from __future__ import annotations

from litestar.types import ControllerRouterHandler

route_handlers: list[ControllerRouterHandler] = []
