"""The self-assessment framework: dimensions → (sub-dimensions) → indicators, read from and written to YAML.

A framework version is data. This module parses it, checks it (every problem is reported at once and names
the dimension or indicator concerned), and answers the questions the survey, the upload and the engine ask:
which indicators apply to a size class, how a raw answer becomes a number, what an indicator is called in
another language. The file format is documented in the module's README ("Framework YAML").
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Literal, cast, get_args

import yaml

from covenant.cities.models import SizeClass
from covenant.i18n import gettext as _

IndicatorType = Literal["number", "percentage", "yes_no", "scale_1_5", "choice"]
Direction = Literal["higher", "lower"]
Source = Literal["survey", "open_data", "module"]
Transform = Literal["none", "log10", "ln", "per_1000"]
Normalisation = Literal["minmax", "goalposts", "zscore", "percentile", "target"]
Aggregation = Literal["arithmetic", "geometric"]

INDICATOR_TYPES: tuple[str, ...] = get_args(IndicatorType)
DIRECTIONS: tuple[str, ...] = get_args(Direction)
SOURCES: tuple[str, ...] = get_args(Source)
TRANSFORMS: tuple[str, ...] = get_args(Transform)
NORMALISATIONS: tuple[str, ...] = get_args(Normalisation)
AGGREGATIONS: tuple[str, ...] = get_args(Aggregation)
SIZE_CLASSES: tuple[str, ...] = tuple(size.value for size in SizeClass)
SCALES: tuple[int, ...] = (1, 100)
#: Events of other modules that can fill an indicator whose source is ``module``.
SOURCE_EVENTS: tuple[str, ...] = (
    "ai_review.technology_reviewed",
    "training.session_evaluated",
    "cohesion.evaluation_completed",
    "practices.fiche_published",
)
TRANSLATED_INDICATOR_FIELDS = ("name", "definition", "operationalisation", "help")
TRANSLATED_DIMENSION_FIELDS = ("name", "description")

SEED_FRAMEWORK = Path(__file__).parent / "seed" / "framework.yaml"

_YES = {"yes", "y", "true", "1", "oui", "sí", "si", "sì"}
_NO = {"no", "n", "false", "0", "non"}


class FrameworkError(ValueError):
    """A framework that cannot be used. ``messages`` lists every problem, each naming its indicator or dimension."""

    def __init__(self, messages: Sequence[str]) -> None:
        self.messages: list[str] = list(messages)
        super().__init__("; ".join(self.messages))


@dataclass(frozen=True)
class Choice:
    """One answer of a ``choice`` indicator and the score (0-1 or any number) it stands for."""

    value: str
    label: str
    score: float


@dataclass(frozen=True)
class Indicator:
    """One question of the framework: what is measured, how it is answered, and how it is scored."""

    code: str
    name: str
    definition: str
    operationalisation: str
    unit: str
    type: IndicatorType
    direction: Direction
    source: Source
    source_event: str | None
    size_classes: tuple[str, ...]
    transform: Transform
    normalisation: Normalisation
    weight: float
    help: str = ""
    choices: tuple[Choice, ...] = ()
    goalposts: tuple[float, float] | None = None
    target: float | None = None
    minimum: float | None = None
    maximum: float | None = None
    translations: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def applies_to(self, size_class: str | None) -> bool:
        """Whether a city of this size class answers the indicator (an unknown class answers everything)."""
        return not self.size_classes or size_class is None or size_class in self.size_classes

    def text(self, field_name: str, lang: str) -> str:
        """``name``, ``definition``, ``operationalisation``, ``help`` or ``choice.<value>`` in ``lang``,
        falling back to English."""
        translated = self.translations.get(lang, {}).get(field_name)
        if translated:
            return translated
        if field_name.startswith("choice."):
            value = field_name.removeprefix("choice.")
            return next((choice.label for choice in self.choices if choice.value == value), value)
        return str(getattr(self, field_name))

    @property
    def bounds(self) -> tuple[float | None, float | None]:
        """The allowed range of an answer, from the type and the explicit minimum/maximum."""
        low, high = self.minimum, self.maximum
        if self.type == "percentage":
            low = 0.0 if low is None else max(low, 0.0)
            high = 100.0 if high is None else min(high, 100.0)
        elif self.type == "scale_1_5":
            low, high = 1.0, 5.0
        elif self.type == "yes_no":
            low, high = 0.0, 1.0
        return low, high

    def parse(self, raw: str | float | int | bool | None) -> float | None:
        """The numeric value of one answer. Empty → None (not answered). A value of the wrong type or out of
        range raises ValueError with a message naming the indicator."""
        if raw is None:
            return None
        if isinstance(raw, bool):
            text = "yes" if raw else "no"
        elif isinstance(raw, int | float):
            text = repr(float(raw))
        else:
            text = str(raw).strip()
        if not text:
            return None
        if self.type == "yes_no":
            lowered = text.lower()
            if lowered in _YES or lowered == "1.0":
                return 1.0
            if lowered in _NO or lowered == "0.0":
                return 0.0
            raise ValueError(_("%(code)s: expected yes or no, got %(text)s") % {"code": self.code, "text": repr(text)})
        if self.type == "choice":
            for choice in self.choices:
                if text == choice.value or text.lower() == choice.value.lower():
                    return choice.score
            allowed = ", ".join(choice.value for choice in self.choices)
            raise ValueError(
                _("%(code)s: expected one of %(allowed)s, got %(text)s")
                % {"code": self.code, "allowed": allowed, "text": repr(text)}
            )
        number_text = text.removesuffix("%").strip() if self.type == "percentage" else text
        if "," in number_text and "." not in number_text:
            number_text = number_text.replace(",", ".")  # decimal comma
        try:
            value = float(number_text)
        except ValueError:
            raise ValueError(
                _("%(code)s: expected a number, got %(text)s") % {"code": self.code, "text": repr(text)}
            ) from None
        if not math.isfinite(value):
            raise ValueError(
                _("%(code)s: expected a finite number, got %(text)s") % {"code": self.code, "text": repr(text)}
            )
        if self.type == "scale_1_5" and value not in (1.0, 2.0, 3.0, 4.0, 5.0):
            raise ValueError(
                _("%(code)s: expected a whole number from 1 to 5, got %(text)s")
                % {"code": self.code, "text": repr(text)}
            )
        low, high = self.bounds
        if low is not None and value < low:
            raise ValueError(
                _("%(code)s: %(value)s is below the minimum %(minimum)s")
                % {"code": self.code, "value": _fmt(value), "minimum": _fmt(low)}
            )
        if high is not None and value > high:
            raise ValueError(
                _("%(code)s: %(value)s is above the maximum %(maximum)s")
                % {"code": self.code, "value": _fmt(value), "maximum": _fmt(high)}
            )
        return value


@dataclass(frozen=True)
class Dimension:
    """A group of indicators (and optionally sub-dimensions) aggregated into one score."""

    code: str
    name: str
    description: str
    weight: float
    aggregation: Aggregation
    indicators: tuple[Indicator, ...]
    subdimensions: tuple[Dimension, ...] = ()
    translations: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def text(self, field_name: str, lang: str) -> str:
        """``name`` or ``description`` in ``lang``, falling back to English."""
        translated = self.translations.get(lang, {}).get(field_name)
        return translated or str(getattr(self, field_name))

    def walk(self) -> Iterator[Dimension]:
        """This dimension and every sub-dimension below it, depth first."""
        yield self
        for sub in self.subdimensions:
            yield from sub.walk()

    @property
    def all_indicators(self) -> tuple[Indicator, ...]:
        """Every indicator of the dimension and of its sub-dimensions, in file order."""
        return tuple(indicator for dimension in self.walk() for indicator in dimension.indicators)


@dataclass(frozen=True)
class Framework:
    """One version of the framework. ``scale`` is 1 (scores 0-1) or 100 (scores 0-100); ``aggregation``
    combines the top-level dimensions into the index."""

    code: str
    version: str
    title: str
    scale: Literal[1, 100]
    aggregation: Aggregation
    dimensions: tuple[Dimension, ...]
    description: str = ""

    @property
    def indicators(self) -> tuple[Indicator, ...]:
        return tuple(indicator for dimension in self.dimensions for indicator in dimension.all_indicators)

    @property
    def indicator_codes(self) -> tuple[str, ...]:
        return tuple(indicator.code for indicator in self.indicators)

    def indicator(self, code: str) -> Indicator:
        for indicator in self.indicators:
            if indicator.code == code:
                return indicator
        raise KeyError(code)

    def dimension_of(self, code: str) -> Dimension:
        """The top-level dimension an indicator (or a sub-dimension) belongs to."""
        for dimension in self.dimensions:
            if any(sub.code == code for sub in dimension.walk()):
                return dimension
            if any(indicator.code == code for indicator in dimension.all_indicators):
                return dimension
        raise KeyError(code)

    def dimension(self, code: str) -> Dimension:
        for top in self.dimensions:
            for dimension in top.walk():
                if dimension.code == code:
                    return dimension
        raise KeyError(code)

    def indicators_for(self, size_class: str | None) -> tuple[Indicator, ...]:
        return tuple(indicator for indicator in self.indicators if indicator.applies_to(size_class))

    def indicators_by_source_event(self, event_name: str) -> tuple[Indicator, ...]:
        return tuple(indicator for indicator in self.indicators if indicator.source_event == event_name)

    # -- YAML -----------------------------------------------------------------------------------------------

    @classmethod
    def from_yaml(cls, text: str) -> Framework:
        """Parse and check a framework file. Raises FrameworkError listing every problem found."""
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as error:
            raise FrameworkError([_("the file is not valid YAML: %(error)s") % {"error": error}]) from None
        return cls.from_dict(data)

    @classmethod
    def from_dict(cls, data: Any) -> Framework:
        return _Parser().framework(data)

    def to_dict(self) -> dict[str, Any]:
        translations: dict[str, dict[str, dict[str, str]]] = {}

        def collect(code: str, texts: Mapping[str, Mapping[str, str]]) -> None:
            for lang, fields in texts.items():
                if fields:
                    translations.setdefault(lang, {})[code] = dict(fields)

        def dimension_dict(dimension: Dimension) -> dict[str, Any]:
            collect(dimension.code, dimension.translations)
            out: dict[str, Any] = {
                "code": dimension.code,
                "name": dimension.name,
                "description": dimension.description,
                "weight": _plain(dimension.weight),
                "aggregation": dimension.aggregation,
            }
            if dimension.subdimensions:
                out["subdimensions"] = [dimension_dict(sub) for sub in dimension.subdimensions]
            out["indicators"] = [indicator_dict(indicator) for indicator in dimension.indicators]
            return out

        def indicator_dict(indicator: Indicator) -> dict[str, Any]:
            collect(indicator.code, indicator.translations)
            out: dict[str, Any] = {
                "code": indicator.code,
                "name": indicator.name,
                "definition": indicator.definition,
                "operationalisation": indicator.operationalisation,
                "unit": indicator.unit,
                "type": indicator.type,
                "direction": indicator.direction,
                "source": indicator.source,
            }
            if indicator.source_event:
                out["source_event"] = indicator.source_event
            out["size_classes"] = list(indicator.size_classes) or "all"
            out["transform"] = indicator.transform
            out["normalisation"] = indicator.normalisation
            if indicator.goalposts is not None:
                out["goalposts"] = [_plain(indicator.goalposts[0]), _plain(indicator.goalposts[1])]
            if indicator.target is not None:
                out["target"] = _plain(indicator.target)
            if indicator.minimum is not None:
                out["minimum"] = _plain(indicator.minimum)
            if indicator.maximum is not None:
                out["maximum"] = _plain(indicator.maximum)
            out["weight"] = _plain(indicator.weight)
            if indicator.choices:
                out["choices"] = [
                    {"value": choice.value, "label": choice.label, "score": _plain(choice.score)}
                    for choice in indicator.choices
                ]
            if indicator.help:
                out["help"] = indicator.help
            return out

        data: dict[str, Any] = {
            "code": self.code,
            "version": self.version,
            "title": self.title,
        }
        if self.description:
            data["description"] = self.description
        data["scale"] = self.scale
        data["aggregation"] = self.aggregation
        data["dimensions"] = [dimension_dict(dimension) for dimension in self.dimensions]
        if translations:
            data["translations"] = translations
        return data

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.to_dict(), sort_keys=False, allow_unicode=True, width=110)


@cache
def default_framework() -> Framework:
    """The framework shipped with the module (seed/framework.yaml)."""
    return Framework.from_yaml(SEED_FRAMEWORK.read_text(encoding="utf-8"))


def _fmt(value: float) -> str:
    return f"{value:g}"


def _plain(value: float) -> float | int:
    return int(value) if float(value).is_integer() else value


# -- parsing ------------------------------------------------------------------------------------------------

_FRAMEWORK_KEYS = {"code", "version", "title", "description", "scale", "aggregation", "dimensions", "translations"}
_DIMENSION_KEYS = {
    "code",
    "name",
    "description",
    "weight",
    "aggregation",
    "indicators",
    "subdimensions",
    "parent",
}
_INDICATOR_KEYS = {
    "code",
    "name",
    "definition",
    "operationalisation",
    "unit",
    "type",
    "direction",
    "source",
    "source_event",
    "size_classes",
    "transform",
    "normalisation",
    "weight",
    "help",
    "choices",
    "goalposts",
    "target",
    "minimum",
    "maximum",
}


@dataclass
class _RawDimension:
    data: dict[str, Any]
    label: str
    parent: str | None
    children: list[str] = field(default_factory=list)


class _Parser:
    """Collects every problem instead of stopping at the first, so an author fixes a file in one pass."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.codes: dict[str, str] = {}  # code -> what first used it
        self.translations: dict[str, dict[str, dict[str, str]]] = {}

    def error(self, message: str) -> None:
        self.errors.append(message)

    def framework(self, data: Any) -> Framework:
        if not isinstance(data, dict):
            raise FrameworkError([_("the framework must be a mapping with code, version, title and dimensions")])
        for key in sorted(set(data) - _FRAMEWORK_KEYS):
            self.error(_("framework: unknown key %(key)s") % {"key": repr(key)})
        code = self.text(data, "code", "framework", required=True)
        version = self.text(data, "version", "framework", required=True)
        title = self.text(data, "title", "framework", required=True)
        description = self.text(data, "description", "framework")
        scale = data.get("scale", 100)
        if scale not in SCALES or isinstance(scale, bool):
            self.error(
                _("framework: scale must be 1 (scores 0-1) or 100 (scores 0-100), got %(scale)s")
                % {"scale": repr(scale)}
            )
            scale = 100
        aggregation = self.choice(data, "aggregation", "framework", AGGREGATIONS, "arithmetic")
        self.translations = self.read_translations(data.get("translations"))
        raw_dimensions = data.get("dimensions")
        dimensions: tuple[Dimension, ...] = ()
        if not isinstance(raw_dimensions, list) or not raw_dimensions:
            self.error(_("framework: dimensions must be a non-empty list"))
        else:
            dimensions = self.dimension_tree(raw_dimensions)
            self.check_weights([(d.code, d.weight) for d in dimensions], _("framework: the dimensions"))
        for lang, texts in self.translations.items():
            for unknown in sorted(set(texts) - set(self.codes)):
                self.error(
                    _("translations.%(lang)s: %(code)s is not a dimension or indicator code")
                    % {"lang": lang, "code": repr(unknown)}
                )
        if self.errors:
            raise FrameworkError(self.errors)
        return Framework(
            code=code,
            version=version,
            title=title,
            scale=cast(Literal[1, 100], scale),
            aggregation=cast(Aggregation, aggregation),
            dimensions=dimensions,
            description=description,
        )

    # -- dimensions: nested (``subdimensions``) or flat with ``parent`` -------------------------------------

    def dimension_tree(self, raw_dimensions: list[Any]) -> tuple[Dimension, ...]:
        raw: dict[str, _RawDimension] = {}
        order: list[str] = []
        self.flatten(raw_dimensions, None, raw, order, seen=set())
        for code in order:
            parent = raw[code].parent
            if parent is None:
                continue
            if parent not in raw:
                self.error(
                    _("dimension %(code)s: parent %(parent)s is not a dimension")
                    % {"code": code, "parent": repr(parent)}
                )
                raw[code].parent = None
            elif code not in raw[parent].children:
                raw[parent].children.append(code)
        cyclic = self.find_cycles(raw, order)
        roots = [code for code in order if raw[code].parent is None and code not in cyclic]
        return tuple(self.build(code, raw) for code in roots)

    def flatten(
        self,
        items: list[Any],
        parent: str | None,
        raw: dict[str, _RawDimension],
        order: list[str],
        seen: set[int],
    ) -> None:
        for position, item in enumerate(items, start=1):
            where = (
                _("dimension %(position)s") % {"position": position}
                if parent is None
                else _("sub-dimension %(position)s of %(parent)s") % {"position": position, "parent": parent}
            )
            if not isinstance(item, dict):
                self.error(_("%(where)s: must be a mapping") % {"where": where})
                continue
            if id(item) in seen:  # a YAML alias that refers to one of its own ancestors
                self.error(
                    _("%(where)s: the dimension contains itself (a cycle through a YAML alias)") % {"where": where}
                )
                continue
            code = item.get("code")
            if not isinstance(code, str) or not code.strip():
                self.error(_("%(where)s: code is required") % {"where": where})
                continue
            code = code.strip()
            if not self.claim(code, "dimension"):
                continue
            declared_parent = item.get("parent")
            if declared_parent is not None and parent is not None and declared_parent != parent:
                self.error(
                    _("dimension %(code)s: declares parent %(declared)s but is nested under %(parent)s")
                    % {"code": code, "declared": repr(declared_parent), "parent": repr(parent)}
                )
            node = _RawDimension(item, code, parent if parent is not None else _opt_str(declared_parent))
            raw[code] = node
            order.append(code)
            if parent is not None:
                raw[parent].children.append(code)
            subs = item.get("subdimensions")
            if subs is not None:
                if not isinstance(subs, list):
                    self.error(_("dimension %(code)s: subdimensions must be a list") % {"code": code})
                else:
                    self.flatten(subs, code, raw, order, seen | {id(item)})

    def find_cycles(self, raw: dict[str, _RawDimension], order: list[str]) -> set[str]:
        cyclic: set[str] = set()
        for start in order:
            path: list[str] = []
            code: str | None = start
            while code is not None and code not in path:
                path.append(code)
                code = raw[code].parent
            if code is not None and code == start:
                cycle = [*path[path.index(code) :], code]
                if not cyclic.intersection(cycle):
                    self.error(_("dimensions form a cycle: %(cycle)s") % {"cycle": " → ".join(cycle)})
                cyclic.update(cycle)
        return cyclic

    def build(self, code: str, raw: dict[str, _RawDimension]) -> Dimension:
        data = raw[code].data
        where = _("dimension %(code)s") % {"code": code}
        for key in sorted(set(data) - _DIMENSION_KEYS):
            self.error(_("%(where)s: unknown key %(key)s") % {"where": where, "key": repr(key)})
        name = self.text(data, "name", where, required=True)
        description = self.text(data, "description", where)
        weight = self.weight(data, where)
        aggregation = self.choice(data, "aggregation", where, AGGREGATIONS, "arithmetic")
        subdimensions = tuple(self.build(child, raw) for child in raw[code].children)
        raw_indicators = data.get("indicators") or []
        indicators: list[Indicator] = []
        if not isinstance(raw_indicators, list):
            self.error(_("%(where)s: indicators must be a list") % {"where": where})
        else:
            for position, item in enumerate(raw_indicators, start=1):
                indicator = self.indicator(
                    item, _("indicator %(position)s of %(code)s") % {"position": position, "code": code}
                )
                if indicator is not None:
                    indicators.append(indicator)
        if not raw_indicators and not subdimensions:
            self.error(_("%(where)s: has no indicators and no sub-dimensions") % {"where": where})
        children = [(i.code, i.weight) for i in indicators] + [(s.code, s.weight) for s in subdimensions]
        if children:
            self.check_weights(children, where)
        return Dimension(
            code=code,
            name=name,
            description=description,
            weight=weight,
            aggregation=cast(Aggregation, aggregation),
            indicators=tuple(indicators),
            subdimensions=subdimensions,
            translations=self.translations_of(code, TRANSLATED_DIMENSION_FIELDS),
        )

    # -- indicators ------------------------------------------------------------------------------------------

    def indicator(self, data: Any, where: str) -> Indicator | None:
        if not isinstance(data, dict):
            self.error(_("%(where)s: must be a mapping") % {"where": where})
            return None
        code = data.get("code")
        if not isinstance(code, str) or not code.strip():
            self.error(_("%(where)s: code is required") % {"where": where})
            return None
        code = code.strip()
        if not self.claim(code, "indicator"):
            return None
        where = _("indicator %(code)s") % {"code": code}
        before = len(self.errors)
        for key in sorted(set(data) - _INDICATOR_KEYS):
            self.error(_("%(where)s: unknown key %(key)s") % {"where": where, "key": repr(key)})
        name = self.text(data, "name", where, required=True)
        definition = self.text(data, "definition", where, required=True)
        operationalisation = self.text(data, "operationalisation", where)
        unit = self.text(data, "unit", where)
        help_text = self.text(data, "help", where)
        kind = self.choice(data, "type", where, INDICATOR_TYPES, None)
        direction = self.choice(data, "direction", where, DIRECTIONS, "higher")
        source = self.choice(data, "source", where, SOURCES, "survey")
        transform = self.choice(data, "transform", where, TRANSFORMS, "none")
        normalisation = self.choice(data, "normalisation", where, NORMALISATIONS, None)
        weight = self.weight(data, where)
        source_event = _opt_str(data.get("source_event"))
        if source == "module":
            if source_event is None:
                known = ", ".join(SOURCE_EVENTS)
                self.error(
                    _("%(where)s: source is module, so source_event is required (one of %(known)s)")
                    % {"where": where, "known": known}
                )
            elif source_event not in SOURCE_EVENTS:
                self.error(
                    _("%(where)s: unknown source_event %(event)s (known: %(known)s)")
                    % {"where": where, "event": repr(source_event), "known": ", ".join(SOURCE_EVENTS)}
                )
        elif source_event is not None:
            self.error(_("%(where)s: source_event is only allowed when source is module") % {"where": where})
        size_classes = self.size_classes(data.get("size_classes"), where)
        minimum = self.number(data, "minimum", where)
        maximum = self.number(data, "maximum", where)
        if minimum is not None and maximum is not None and minimum >= maximum:
            self.error(_("%(where)s: minimum must be below maximum") % {"where": where})
        target = self.number(data, "target", where)
        goalposts = self.goalposts(data.get("goalposts"), where)
        choices = self.choices(data.get("choices"), where, kind)
        if normalisation == "goalposts" and goalposts is None:
            self.error(_("%(where)s: normalisation goalposts needs goalposts: [low, high]") % {"where": where})
        if normalisation == "target":
            if target is None:
                self.error(_("%(where)s: normalisation target needs a target") % {"where": where})
            elif target <= 0:
                self.error(_("%(where)s: target must be greater than 0 (scores are value / target)") % {"where": where})
        if transform in ("log10", "ln") and (minimum is None or minimum <= 0):
            self.error(
                _("%(where)s: the %(transform)s transform needs a minimum greater than 0 (logarithms of 0 or less)")
                % {"where": where, "transform": transform}
            )
        if transform != "none" and kind not in ("number", None):
            self.error(
                _("%(where)s: transform %(transform)s only applies to indicators of type number")
                % {"where": where, "transform": transform}
            )
        if len(self.errors) > before or kind is None or normalisation is None:
            return None
        return Indicator(
            code=code,
            name=name,
            definition=definition,
            operationalisation=operationalisation,
            unit=unit,
            type=cast(IndicatorType, kind),
            direction=cast(Direction, direction),
            source=cast(Source, source),
            source_event=source_event,
            size_classes=size_classes,
            transform=cast(Transform, transform),
            normalisation=cast(Normalisation, normalisation),
            weight=weight,
            help=help_text,
            choices=choices,
            goalposts=goalposts,
            target=target,
            minimum=minimum,
            maximum=maximum,
            translations=self.translations_of(code, TRANSLATED_INDICATOR_FIELDS, choices=choices),
        )

    # -- small readers -------------------------------------------------------------------------------------

    def claim(self, code: str, kind: str) -> bool:
        if code in self.codes:
            if kind == "indicator":
                message = (
                    _("indicator %(code)s: duplicate code (already used by an indicator)")
                    if self.codes[code] == "indicator"
                    else _("indicator %(code)s: duplicate code (already used by a dimension)")
                )
            else:
                message = (
                    _("dimension %(code)s: duplicate code (already used by an indicator)")
                    if self.codes[code] == "indicator"
                    else _("dimension %(code)s: duplicate code (already used by a dimension)")
                )
            self.error(message % {"code": code})
            return False
        self.codes[code] = kind
        return True

    def text(self, data: dict[str, Any], key: str, where: str, *, required: bool = False) -> str:
        value = data.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.error(_("%(where)s: %(key)s is required") % {"where": where, "key": key})
            return ""
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            self.error(_("%(where)s: %(key)s must be text") % {"where": where, "key": key})
            return ""
        return str(value).strip()

    def choice(self, data: dict[str, Any], key: str, where: str, allowed: tuple[str, ...], default: str | None) -> str:
        value = data.get(key)
        if value is None:
            if default is None:
                self.error(
                    _("%(where)s: %(key)s is required (one of %(allowed)s)")
                    % {"where": where, "key": key, "allowed": ", ".join(allowed)}
                )
                return ""
            return default
        if value not in allowed:
            self.error(
                _("%(where)s: unknown %(key)s %(value)s (allowed: %(allowed)s)")
                % {"where": where, "key": key, "value": repr(value), "allowed": ", ".join(allowed)}
            )
            return default or ""
        return str(value)

    def number(self, data: dict[str, Any], key: str, where: str) -> float | None:
        value = data.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            self.error(
                _("%(where)s: %(key)s must be a number, got %(value)s")
                % {"where": where, "key": key, "value": repr(value)}
            )
            return None
        return float(value)

    def weight(self, data: dict[str, Any], where: str) -> float:
        value = data.get("weight", 1)
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            self.error(_("%(where)s: weight must be a number, got %(value)s") % {"where": where, "value": repr(value)})
            return 1.0
        if value < 0:
            self.error(
                _("%(where)s: weight must not be negative, got %(value)s") % {"where": where, "value": _fmt(value)}
            )
            return 1.0
        return float(value)

    def check_weights(self, children: list[tuple[str, float]], where: str) -> None:
        if children and sum(weight for _, weight in children) <= 0:
            names = ", ".join(code for code, _ in children)
            self.error(_("%(where)s: the weights of %(names)s sum to zero") % {"where": where, "names": names})

    def size_classes(self, value: Any, where: str) -> tuple[str, ...]:
        if value is None or value == "all" or value == []:
            return ()
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list):
            self.error(_("%(where)s: size_classes must be a list of size classes or 'all'") % {"where": where})
            return ()
        result: list[str] = []
        for item in value:
            if item not in SIZE_CLASSES:
                self.error(
                    _("%(where)s: unknown size class %(value)s (allowed: %(allowed)s)")
                    % {"where": where, "value": repr(item), "allowed": ", ".join(SIZE_CLASSES)}
                )
            elif item not in result:
                result.append(item)
        return tuple(result)

    def goalposts(self, value: Any, where: str) -> tuple[float, float] | None:
        if value is None:
            return None
        if (
            not isinstance(value, list)
            or len(value) != 2
            or any(isinstance(v, bool) or not isinstance(v, int | float) for v in value)
        ):
            self.error(_("%(where)s: goalposts must be two numbers [low, high]") % {"where": where})
            return None
        low, high = float(value[0]), float(value[1])
        if not low < high:
            self.error(_("%(where)s: goalposts must be [low, high] with low below high") % {"where": where})
            return None
        return low, high

    def choices(self, value: Any, where: str, kind: str | None) -> tuple[Choice, ...]:
        if kind != "choice":
            if value:
                self.error(_("%(where)s: choices are only allowed for type choice") % {"where": where})
            return ()
        if not isinstance(value, list) or len(value) < 2:
            self.error(_("%(where)s: type choice needs at least two choices") % {"where": where})
            return ()
        result: list[Choice] = []
        for position, item in enumerate(value, start=1):
            if not isinstance(item, dict) or "value" not in item or "score" not in item:
                self.error(
                    _("%(where)s: choice %(position)s needs a value, a label and a score")
                    % {"where": where, "position": position}
                )
                continue
            score = item["score"]
            if isinstance(score, bool) or not isinstance(score, int | float) or not math.isfinite(score):
                self.error(
                    _("%(where)s: choice %(value)s has a score that is not a number")
                    % {"where": where, "value": repr(item["value"])}
                )
                continue
            if any(choice.value == str(item["value"]) for choice in result):
                self.error(
                    _("%(where)s: choice %(value)s appears twice") % {"where": where, "value": repr(item["value"])}
                )
                continue
            result.append(Choice(str(item["value"]), str(item.get("label") or item["value"]), float(score)))
        return tuple(result)

    def read_translations(self, value: Any) -> dict[str, dict[str, dict[str, str]]]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.error(_("translations: must map a language to {code: {field: text}}"))
            return {}
        result: dict[str, dict[str, dict[str, str]]] = {}
        for lang, texts in value.items():
            if not isinstance(texts, dict):
                self.error(_("translations.%(lang)s: must map codes to {field: text}") % {"lang": lang})
                continue
            result[str(lang)] = {}
            for code, fields in texts.items():
                if not isinstance(fields, dict) or not all(isinstance(v, str) for v in fields.values()):
                    self.error(
                        _("translations.%(lang)s.%(code)s: must map fields to text") % {"lang": lang, "code": code}
                    )
                    continue
                result[str(lang)][str(code)] = {str(k): v for k, v in fields.items()}
        return result

    def translations_of(
        self, code: str, allowed: tuple[str, ...], *, choices: tuple[Choice, ...] = ()
    ) -> dict[str, dict[str, str]]:
        allowed_fields = set(allowed) | {f"choice.{choice.value}" for choice in choices}
        result: dict[str, dict[str, str]] = {}
        for lang, texts in self.translations.items():
            fields = texts.get(code)
            if not fields:
                continue
            for key in sorted(set(fields) - allowed_fields):
                allowed_list = ", ".join(sorted(allowed_fields))
                self.error(
                    _("translations.%(lang)s.%(code)s: unknown field %(field)s (allowed: %(allowed)s)")
                    % {"lang": lang, "code": code, "field": repr(key), "allowed": allowed_list}
                )
            result[lang] = {k: v for k, v in fields.items() if k in allowed_fields}
        return result


def _opt_str(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None
