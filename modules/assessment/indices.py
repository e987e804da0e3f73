"""The catalogue of existing indices (seed/indices.yaml) mapped to our dimensions, and the gap view.

The gap view answers, per dimension of a framework: which existing indices cover it, how well, and whether
any of them measures what authorities do or serves cities below 250,000 inhabitants.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal, cast

import yaml

from modules.assessment.framework import Dimension, Framework, default_framework

SEED_INDICES = Path(__file__).parent / "seed" / "indices.yaml"

Strength = Literal["none", "weak", "partial", "strong"]
STRENGTHS: tuple[Strength, ...] = ("none", "weak", "partial", "strong")
MeasuresAction = Literal["yes", "partly", "no"]


class CatalogueError(ValueError):
    def __init__(self, messages: Sequence[str]) -> None:
        self.messages = list(messages)
        super().__init__("; ".join(self.messages))


@dataclass(frozen=True)
class Coverage:
    """How one existing index covers one of our dimensions."""

    dimension: str
    strength: Strength
    indicators: tuple[str, ...]


@dataclass(frozen=True)
class ExistingIndex:
    code: str
    name: str
    publisher: str
    url: str
    editions: tuple[str, ...]
    scope: str
    method: str
    covers_small_cities: bool
    ranks_cities: bool
    measures_action: MeasuresAction
    mapping: tuple[Coverage, ...]

    def coverage_of(self, dimension: str) -> Coverage | None:
        return next((c for c in self.mapping if c.dimension == dimension), None)


@dataclass(frozen=True)
class GapRow:
    """One of our dimensions and what the existing indices offer for it."""

    dimension: Dimension
    entries: tuple[tuple[ExistingIndex, Coverage], ...]

    @property
    def best(self) -> Strength:
        return max((c.strength for _, c in self.entries), key=STRENGTHS.index, default="none")

    @property
    def is_gap(self) -> bool:
        """No index covers the dimension better than weakly."""
        return STRENGTHS.index(self.best) < STRENGTHS.index("partial")

    @property
    def covered_for_small_cities(self) -> bool:
        return any(index.covers_small_cities and STRENGTHS.index(c.strength) >= 2 for index, c in self.entries)

    @property
    def covered_as_action(self) -> bool:
        """Some index covers it at least partially and records (partly) what authorities do."""
        return any(index.measures_action != "no" and STRENGTHS.index(c.strength) >= 2 for index, c in self.entries)


def parse_catalogue(text: str, framework: Framework) -> tuple[ExistingIndex, ...]:
    """Read a catalogue file, checking that every mapped dimension exists in ``framework``."""
    data = yaml.safe_load(text)
    errors: list[str] = []
    if not isinstance(data, dict) or not isinstance(data.get("indices"), list):
        raise CatalogueError(["the catalogue must have a list 'indices'"])
    known = {dimension.code for dimension in framework.dimensions}
    result: list[ExistingIndex] = []
    codes: set[str] = set()
    for position, item in enumerate(data["indices"], start=1):
        if not isinstance(item, dict) or not item.get("code"):
            errors.append(f"index {position}: must be a mapping with a code")
            continue
        code = str(item["code"])
        if code in codes:
            errors.append(f"index {code}: duplicate code")
        codes.add(code)
        mapping: list[Coverage] = []
        for entry in item.get("mapping") or []:
            dimension = str(entry.get("dimension", ""))
            strength = entry.get("strength")
            if dimension not in known:
                errors.append(f"index {code}: {dimension!r} is not a dimension of {framework.code}")
                continue
            if strength not in STRENGTHS:
                errors.append(f"index {code}, dimension {dimension}: unknown strength {strength!r}")
                continue
            mapping.append(
                Coverage(dimension, cast(Strength, strength), tuple(map(str, entry.get("indicators") or ())))
            )
        action = _action(item.get("measures_action"))
        if action is None:
            errors.append(f"index {code}: measures_action must be yes, partly or no")
            action = "no"
        result.append(
            ExistingIndex(
                code=code,
                name=_text(item, "name"),
                publisher=_text(item, "publisher"),
                url=_text(item, "url"),
                editions=tuple(str(e) for e in item.get("editions") or ()),
                scope=_text(item, "scope"),
                method=_text(item, "method"),
                covers_small_cities=bool(item.get("covers_small_cities")),
                ranks_cities=bool(item.get("ranks_cities")),
                measures_action=action,
                mapping=tuple(mapping),
            )
        )
    if errors:
        raise CatalogueError(errors)
    return tuple(result)


def _text(item: dict[str, Any], key: str) -> str:
    return str(item.get(key) or "").strip()


def _action(value: Any) -> MeasuresAction | None:
    # YAML reads yes/no as booleans.
    if value is True or value == "yes":
        return "yes"
    if value is False or value == "no":
        return "no"
    if value == "partly":
        return "partly"
    return None


@cache
def catalogue() -> tuple[ExistingIndex, ...]:
    """The catalogue shipped with the module, checked against the shipped framework."""
    return parse_catalogue(SEED_INDICES.read_text(encoding="utf-8"), default_framework())


def gap_view(framework: Framework, indices: Sequence[ExistingIndex]) -> list[GapRow]:
    """Per top-level dimension of ``framework``: the indices covering it, strongest first."""
    rows: list[GapRow] = []
    for dimension in framework.dimensions:
        entries = [(index, c) for index in indices if (c := index.coverage_of(dimension.code)) is not None]
        entries.sort(key=lambda pair: (-STRENGTHS.index(pair[1].strength), pair[0].name))
        rows.append(GapRow(dimension, tuple(entries)))
    return rows
