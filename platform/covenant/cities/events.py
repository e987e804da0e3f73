"""Events of the city registry: a city's membership changed. Payloads carry ids and the few values
consumers need (the city's name and country, the adhesion date)."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from covenant.events.base import DomainEvent
from covenant.events.catalogue import register_core_event


class MembershipEvent(DomainEvent):
    """Common payload: the envelope's ``city_id`` is the city; these fields spare consumers a lookup."""

    membership_id: UUID
    city_name: str
    country_code: str
    adhesion_date: date


@register_core_event
class CityApplied(MembershipEvent):
    name = "city.applied"
    description = "A mayor's office applied for its city to join the Covenant."

    applicant_id: UUID | None = None


@register_core_event
class CitySigned(MembershipEvent):
    name = "city.signed"
    description = "The secretariat accepted an application: the city is a signatory."

    population: int


@register_core_event
class CityRejected(MembershipEvent):
    name = "city.rejected"
    description = "The secretariat rejected an application, with a reason."

    reason: str


@register_core_event
class CitySuspended(MembershipEvent):
    name = "city.suspended"
    description = "A signatory was suspended after written notice (e.g. a missed monitoring deadline)."

    reason: str
    notice_date: date


@register_core_event
class CityReinstated(MembershipEvent):
    name = "city.reinstated"
    description = "A suspended signatory was reinstated."


@register_core_event
class CityWithdrew(MembershipEvent):
    name = "city.withdrew"
    description = "A signatory left the Covenant."

    reason: str
