"""The event catalogue: which events exist, who publishes them and who subscribes.

It is the source of truth for the relay (whom to send a recorded event to), the worker (which actors to
declare on which queue), the admin page and ``covenant events graph``. The core appends its own events and
subscriptions with :func:`register_core_event` / :func:`register_core_subscription` at import time of
the core part that owns them; modules contribute theirs through ``ActionModule.publishes`` and
``ActionModule.subscriptions``.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field

from covenant.errors import StartupError
from covenant.events.base import DomainEvent, EventHandler
from covenant.plugins import ModuleRegistry

CORE = "core"
"""Publisher name and queue of the core's own events and subscriptions."""

_core_events: list[type[DomainEvent]] = []
_core_subscriptions: list[tuple[str, EventHandler]] = []


def register_core_event(event_type: type[DomainEvent]) -> type[DomainEvent]:
    """Declare an event the core publishes (usable as a class decorator)."""
    if event_type not in _core_events:
        _core_events.append(event_type)
    return event_type


def register_core_subscription(event_name: str, handler: EventHandler) -> EventHandler:
    """Subscribe a core handler to ``event_name``; it runs as actor ``core.<handler>`` on queue ``core``."""
    if (event_name, handler) not in _core_subscriptions:
        _core_subscriptions.append((event_name, handler))
    return handler


@dataclass(frozen=True)
class Subscriber:
    """One Dramatiq actor: a handler function of a module (or the core) and the events it applies."""

    name: str
    """The actor name, ``<module>.<handler function name>``: Dramatiq actor names are global."""
    module: str
    queue: str
    handler: EventHandler
    events: tuple[str, ...]


@dataclass(frozen=True)
class EventEntry:
    name: str
    publisher: str | None
    """The module slug, ``core``, or None when no enabled part publishes it (a subscription dangles)."""
    event_type: type[DomainEvent] | None
    description: str = ""
    subscribers: tuple[str, ...] = ()


@dataclass
class Catalogue:
    """Events and subscribers of the core and the enabled modules."""

    events: dict[str, EventEntry] = field(default_factory=dict)
    subscribers: dict[str, Subscriber] = field(default_factory=dict)

    def subscribers_of(self, event_name: str) -> list[Subscriber]:
        entry = self.events.get(event_name)
        return [self.subscribers[s] for s in entry.subscribers] if entry else []

    def event_type(self, event_name: str) -> type[DomainEvent] | None:
        entry = self.events.get(event_name)
        return entry.event_type if entry else None

    @property
    def queues(self) -> list[str]:
        """Every queue a worker of this deployment listens on; ``core`` always."""
        return sorted({CORE} | {s.queue for s in self.subscribers.values()})


CORE_HANDLER_MODULES: tuple[str, ...] = (
    "covenant.notifications.handlers",
    "covenant.cities.events",
    "covenant.commitments.events",
    "covenant.calendar.handlers",
    "covenant.monitoring.handlers",
)
"""Core parts whose import registers core events and subscriptions."""


def build_catalogue(registry: ModuleRegistry) -> Catalogue:
    """The catalogue of the core plus every module enabled in ``registry``."""
    for path in CORE_HANDLER_MODULES:
        importlib.import_module(path)
    published: list[tuple[str, type[DomainEvent]]] = [(CORE, e) for e in _core_events]
    published += [(m.slug, e) for m in registry for e in m.publishes]
    subscriptions: list[tuple[str, str, EventHandler]] = [(CORE, n, h) for n, h in _core_subscriptions]
    subscriptions += [(m.slug, n, h) for m in registry for n, h in m.subscriptions.items()]

    catalogue = Catalogue()
    for publisher, event_type in published:
        name = event_type.event_name()
        if name in catalogue.events:
            raise StartupError(f"event {name!r} is published by {catalogue.events[name].publisher} and {publisher}")
        catalogue.events[name] = EventEntry(name, publisher, event_type, event_type.description)

    handlers: dict[str, EventHandler] = {}
    for module, event_name, handler in subscriptions:
        actor = f"{module}.{getattr(handler, '__name__', 'handler')}"
        if actor in handlers and handlers[actor] is not handler:
            raise StartupError(f"two handlers of {module} are both named {actor!r}; Dramatiq actor names are global")
        handlers[actor] = handler
        existing = catalogue.subscribers.get(actor)
        events = (*existing.events, event_name) if existing else (event_name,)
        catalogue.subscribers[actor] = Subscriber(actor, module, module, handler, events)
        entry = catalogue.events.get(event_name) or EventEntry(event_name, None, None)
        catalogue.events[event_name] = EventEntry(
            entry.name, entry.publisher, entry.event_type, entry.description, (*entry.subscribers, actor)
        )
    return catalogue


def render_text(catalogue: Catalogue) -> str:
    """The catalogue as plain text, one event per block."""
    if not catalogue.events:
        return "no events (the core publishes none yet and no enabled module publishes or subscribes)"
    lines: list[str] = []
    for entry in sorted(catalogue.events.values(), key=lambda e: e.name):
        lines.append(f"{entry.name}  (published by {entry.publisher or 'nobody enabled'})")
        lines.extend(f"  -> {sub}  [queue {catalogue.subscribers[sub].queue}]" for sub in entry.subscribers)
        if not entry.subscribers:
            lines.append("  -> no subscribers")
    return "\n".join(lines)


def render_mermaid(catalogue: Catalogue) -> str:
    """The catalogue as a Mermaid flowchart: publisher --> event --> subscriber."""

    def node(text: str) -> str:
        return "n_" + "".join(c if c.isalnum() else "_" for c in text)

    lines = ["flowchart LR"]
    for entry in sorted(catalogue.events.values(), key=lambda e: e.name):
        event_node = node("event." + entry.name)
        lines.append(f'  {event_node}(["{entry.name}"])')
        if entry.publisher:
            lines.append(f'  {node("pub." + entry.publisher)}["{entry.publisher}"] --> {event_node}')
        lines.extend(f'  {event_node} --> {node("sub." + sub)}["{sub}"]' for sub in entry.subscribers)
    return "\n".join(lines)
