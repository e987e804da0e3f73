"""iCalendar feeds (RFC 5545) built with the ``icalendar`` package."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from uuid import UUID

from icalendar import Calendar, Event

from covenant.calendar.models import AgendaSession, ConventionEdition, Deadline

MEDIA_TYPE = "text/calendar"
PRODID = "-//Covenant of Mayors for safer public spaces//Convention calendar//EN"


def _calendar(name: str) -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", name)
    return calendar


def _stamp(row: ConventionEdition | AgendaSession | Deadline) -> datetime:
    return getattr(row, "updated_at", None) or datetime.now(UTC)


def _deadline_event(deadline: Deadline, base_url: str) -> Event:
    event = Event()
    event.add("uid", f"deadline-{deadline.id}@covenant")
    event.add("dtstamp", _stamp(deadline))
    event.add("summary", deadline.title)
    event.add("dtstart", deadline.due_on)
    event.add("dtend", deadline.due_on + timedelta(days=1))
    event.add("transp", "TRANSPARENT")
    event.add("categories", ["Deadline", deadline.source])
    if deadline.description:
        event.add("description", deadline.description)
    if deadline.link:
        event.add("url", deadline.link if "://" in deadline.link else base_url + deadline.link)
    return event


def convention_calendar(
    editions: Sequence[ConventionEdition],
    sessions: Sequence[AgendaSession],
    deadlines: Sequence[Deadline],
    *,
    base_url: str,
    name: str,
    city_names: Mapping[UUID, str] | None = None,
) -> bytes:
    """The public feed: every announced edition (all day), its agenda sessions (timed, UTC) and the
    deadlines for all signatories."""
    city_names = city_names or {}
    calendar = _calendar(name)
    by_id = {e.id: e for e in editions}
    for edition in editions:
        event = Event()
        event.add("uid", f"convention-{edition.year}@covenant")
        event.add("dtstamp", _stamp(edition))
        event.add("summary", edition.title)
        event.add("dtstart", edition.starts_on)
        event.add("dtend", edition.ends_on + timedelta(days=1))
        location = ", ".join(p for p in (edition.venue, city_names.get(edition.host_city_id or UUID(int=0), "")) if p)
        if location:
            event.add("location", location)
        if edition.theme:
            event.add("description", edition.theme)
        event.add("url", f"{base_url}/convention/{edition.year}")
        calendar.add_component(event)
    for agenda_session in sessions:
        host = by_id.get(agenda_session.edition_id)
        if host is None:
            continue
        event = Event()
        event.add("uid", f"session-{agenda_session.id}@covenant")
        event.add("dtstamp", _stamp(agenda_session))
        event.add("summary", agenda_session.title)
        event.add("dtstart", agenda_session.starts_at.astimezone(UTC))
        event.add("dtend", agenda_session.ends_at.astimezone(UTC))
        location = ", ".join(p for p in (agenda_session.room, host.venue) if p)
        if location:
            event.add("location", location)
        text = "\n\n".join(p for p in (agenda_session.speakers, agenda_session.description) if p)
        if text:
            event.add("description", text)
        event.add("url", f"{base_url}/convention/{host.year}#session-{agenda_session.id}")
        calendar.add_component(event)
    for deadline in deadlines:
        calendar.add_component(_deadline_event(deadline, base_url))
    return bytes(calendar.to_ical())


def deadline_calendar(deadlines: Sequence[Deadline], *, base_url: str, name: str) -> bytes:
    """A personal feed: the deadlines that concern one user."""
    calendar = _calendar(name)
    for deadline in deadlines:
        calendar.add_component(_deadline_event(deadline, base_url))
    return bytes(calendar.to_ical())
