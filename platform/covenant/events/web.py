"""Admin pages and JSON of the event bus: catalogue, recent events, lag, dead letters. (Placeholder.)"""

from __future__ import annotations

from litestar.types import ControllerRouterHandler

route_handlers: list[ControllerRouterHandler] = []
