"""The framework file: the shipped framework, the YAML round trip, answer parsing, and every kind of bad file."""

from __future__ import annotations

import textwrap

import pytest

from modules.assessment.framework import SOURCE_EVENTS, Framework, FrameworkError, default_framework


def framework_yaml(indicators: str = "", *, dimensions: str | None = None, extra: str = "") -> str:
    """A small valid framework; ``indicators`` replaces the indicators of dimension A."""
    indicators = (
        indicators
        or """
      - {code: A1, name: A one, definition: First, type: number, normalisation: minmax, minimum: 0}
      - {code: A2, name: A two, definition: Second, type: yes_no, normalisation: goalposts, goalposts: [0, 1]}
    """
    )
    body = (
        dimensions
        or f"""
dimensions:
  - code: A
    name: Dimension A
    indicators:
{textwrap.indent(textwrap.dedent(indicators).strip(), "      ")}
  - code: B
    name: Dimension B
    indicators:
      - {{code: B1, name: B one, definition: Third, type: percentage, normalisation: goalposts, goalposts: [0, 100]}}
"""
    )
    return f"code: test\nversion: '1'\ntitle: Test\nscale: 100\n{body}\n{extra}"


def errors_of(text: str) -> list[str]:
    with pytest.raises(FrameworkError) as caught:
        Framework.from_yaml(text)
    return caught.value.messages


# -- the shipped framework -------------------------------------------------------------------------------------


def test_default_framework_has_eight_dimensions_and_40_to_60_indicators() -> None:
    framework = default_framework()
    assert [d.code for d in framework.dimensions] == [
        "inclusivity",
        "preparedness",
        "perceived_safety",
        "technology",
        "crime_prevention",
        "security_by_design",
        "social_cohesion",
        "governance",
    ]
    assert 40 <= len(framework.indicators) <= 60
    assert len(set(framework.indicator_codes)) == len(framework.indicators)
    for indicator in framework.indicators:
        assert indicator.name
        assert indicator.definition
        assert indicator.operationalisation
        assert indicator.unit
        assert indicator.help, indicator.code


def test_default_framework_lets_small_towns_answer_fewer_indicators() -> None:
    framework = default_framework()
    small = framework.indicators_for("below_50k")
    large = framework.indicators_for("above_1m")
    assert len(small) < len(large) == len(framework.indicators)
    assert framework.indicator("CRI06") not in small


def test_default_framework_is_filled_by_every_module_event() -> None:
    framework = default_framework()
    events = {indicator.source_event for indicator in framework.indicators if indicator.source == "module"}
    assert events == set(SOURCE_EVENTS)
    assert framework.indicators_by_source_event("cohesion.evaluation_completed")


def test_default_framework_is_translated_in_french_spanish_and_italian() -> None:
    framework = default_framework()
    for lang in ("fr", "es", "it"):
        for indicator in framework.indicators:
            for field in ("name", "definition", "help"):
                assert indicator.text(field, lang) != getattr(indicator, field), (lang, indicator.code, field)
        for top in framework.dimensions:
            for dimension in top.walk():
                for field in ("name", "description"):
                    assert dimension.translations[lang][field], (lang, dimension.code, field)
        for indicator in framework.indicators:
            for choice in indicator.choices:
                assert indicator.text(f"choice.{choice.value}", lang) != choice.label, (lang, indicator.code)
    assert framework.indicator("GOV03").text("name", "fr") == "Budget de prévention"
    assert framework.indicator("GOV01").text("choice.adopted", "es") == "Aprobada"
    # English and unknown languages fall back to the reference text.
    assert framework.indicator("GOV03").text("name", "de") == "Prevention budget"
    assert framework.indicator("GOV01").text("choice.adopted", "en") == "Adopted"


def test_default_framework_round_trips_through_yaml() -> None:
    framework = default_framework()
    assert Framework.from_yaml(framework.to_yaml()) == framework


def test_subdimensions_and_lookup() -> None:
    framework = default_framework()
    assert framework.dimension_of("CAP01").code == "governance"
    assert framework.dimension("capacity_building").indicators[0].code == "CAP01"
    assert framework.dimension_of("capacity_building").code == "governance"
    with pytest.raises(KeyError):
        framework.indicator("NOPE")


# -- parsing answers -------------------------------------------------------------------------------------------


def test_parse_answers_by_type() -> None:
    framework = default_framework()
    assert framework.indicator("INC01").parse("yes") == 1.0
    assert framework.indicator("INC01").parse("Non") == 0.0
    assert framework.indicator("INC01").parse("") is None
    assert framework.indicator("INC03").parse("42,5 %") == 42.5
    assert framework.indicator("INC04").parse("4") == 4.0
    assert framework.indicator("GOV01").parse("adopted") == 0.7
    assert framework.indicator("PRE02").parse(3) == 3.0
    assert framework.indicator("INC01").parse(None) is None


@pytest.mark.parametrize(
    ("code", "raw", "message"),
    [
        ("INC01", "maybe", "INC01: expected yes or no"),
        ("INC03", "120", "INC03: 120 is above the maximum 100"),
        ("INC03", "-1", "INC03: -1 is below the minimum 0"),
        ("INC04", "3.5", "INC04: expected a whole number from 1 to 5"),
        ("INC04", "6", "INC04: expected a whole number from 1 to 5"),
        ("GOV01", "perhaps", "GOV01: expected one of none, preparing, adopted, reviewed"),
        ("PRE02", "three", "PRE02: expected a number"),
        ("PRE02", "nan", "PRE02: expected a finite number"),
        ("CRI06", "0", "CRI06: 0 is below the minimum 0.5"),
    ],
)
def test_parse_rejects_bad_answers_naming_the_indicator(code: str, raw: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        default_framework().indicator(code).parse(raw)


# -- bad files -------------------------------------------------------------------------------------------------


def test_a_minimal_framework_parses_with_defaults() -> None:
    framework = Framework.from_yaml(framework_yaml())
    assert framework.indicator_codes == ("A1", "A2", "B1")
    a1 = framework.indicator("A1")
    assert (a1.direction, a1.source, a1.transform, a1.weight, a1.size_classes) == ("higher", "survey", "none", 1.0, ())
    assert framework.scale == 100
    assert framework.aggregation == "arithmetic"


def test_not_yaml_or_not_a_mapping() -> None:
    assert "not valid YAML" in errors_of("code: [unclosed")[0]
    assert "must be a mapping" in errors_of("- just\n- a list")[0]


def test_duplicate_codes_are_named() -> None:
    messages = errors_of(
        framework_yaml(
            """
            - {code: A1, name: x, definition: x, type: number, normalisation: minmax}
            - {code: A1, name: y, definition: y, type: number, normalisation: minmax}
            - {code: B, name: z, definition: z, type: number, normalisation: minmax}
            """
        )
    )
    assert "indicator A1: duplicate code (already used by an indicator)" in messages
    assert "indicator B: duplicate code (already used by a dimension)" in messages


def test_a_cycle_of_parents_is_reported() -> None:
    text = """
code: t
version: '1'
title: T
dimensions:
  - {code: top, name: Top, indicators: [{code: T1, name: t, definition: t, type: number, normalisation: minmax}]}
  - code: X
    name: X
    parent: Y
    indicators: [{code: X1, name: x, definition: x, type: number, normalisation: minmax}]
  - code: Y
    name: Y
    parent: X
    indicators: [{code: Y1, name: y, definition: y, type: number, normalisation: minmax}]
"""
    assert "dimensions form a cycle: X → Y → X" in errors_of(text)


def test_a_cycle_through_a_yaml_alias_is_reported() -> None:
    text = """
code: t
version: '1'
title: T
dimensions:
  - &loop
    code: L
    name: Loop
    indicators: [{code: L1, name: l, definition: l, type: number, normalisation: minmax}]
    subdimensions: [*loop]
"""
    messages = errors_of(text)
    assert any("contains itself (a cycle" in message for message in messages)


def test_flat_dimensions_with_parent_build_the_tree() -> None:
    text = """
code: t
version: '1'
title: T
dimensions:
  - {code: top, name: Top, indicators: [{code: T1, name: t, definition: t, type: number, normalisation: minmax}]}
  - code: child
    name: Child
    parent: top
    weight: 2
    indicators: [{code: C1, name: c, definition: c, type: number, normalisation: minmax}]
"""
    framework = Framework.from_yaml(text)
    assert [d.code for d in framework.dimensions] == ["top"]
    assert framework.dimensions[0].subdimensions[0].code == "child"
    assert framework.indicator_codes == ("T1", "C1")
    assert "parent 'nowhere' is not a dimension" in errors_of(text.replace("parent: top", "parent: nowhere"))[0]


@pytest.mark.parametrize(
    ("replacement", "message"),
    [
        ("normalisation: softmax", "indicator A1: unknown normalisation 'softmax'"),
        ("normalisation: minmax, transform: sqrt", "indicator A1: unknown transform 'sqrt'"),
        ("normalisation: minmax, direction: up", "indicator A1: unknown direction 'up'"),
        ("normalisation: minmax, source: rumour", "indicator A1: unknown source 'rumour'"),
        ("normalisation: minmax, weight: -1", "indicator A1: weight must not be negative, got -1"),
        ("normalisation: minmax, weight: lots", "indicator A1: weight must be a number"),
        ("normalisation: goalposts", "indicator A1: normalisation goalposts needs goalposts"),
        ("normalisation: goalposts, goalposts: [5, 1]", "indicator A1: goalposts must be [low, high]"),
        ("normalisation: target", "indicator A1: normalisation target needs a target"),
        ("normalisation: target, target: 0", "indicator A1: target must be greater than 0"),
        ("normalisation: minmax, transform: log10", "indicator A1: the log10 transform needs a minimum greater than 0"),
        ("normalisation: minmax, size_classes: [tiny]", "indicator A1: unknown size class 'tiny'"),
        ("normalisation: minmax, source: module", "indicator A1: source is module, so source_event is required"),
        (
            "normalisation: minmax, source: module, source_event: x.y",
            "indicator A1: unknown source_event 'x.y'",
        ),
        ("normalisation: minmax, source_event: practices.fiche_published", "only allowed when source is module"),
        ("normalisation: minmax, colour: red", "indicator A1: unknown key 'colour'"),
        ("normalisation: minmax, minimum: 5, maximum: 1", "indicator A1: minimum must be below maximum"),
    ],
)
def test_bad_indicator_fields_name_the_indicator(replacement: str, message: str) -> None:
    indicators = f"""
    - {{code: A1, name: A one, definition: First, type: number, {replacement}}}
    """
    messages = errors_of(framework_yaml(indicators))
    assert any(message in m for m in messages), messages


def test_missing_type_and_unknown_type() -> None:
    messages = errors_of(framework_yaml("- {code: A1, name: a, definition: a, normalisation: minmax}"))
    assert any(m.startswith("indicator A1: type is required") for m in messages)
    messages = errors_of(framework_yaml("- {code: A1, name: a, definition: a, type: colour, normalisation: minmax}"))
    assert any("indicator A1: unknown type 'colour'" in m for m in messages)


def test_choice_indicators_need_choices() -> None:
    messages = errors_of(framework_yaml("- {code: A1, name: a, definition: a, type: choice, normalisation: minmax}"))
    assert "indicator A1: type choice needs at least two choices" in messages


def test_weights_summing_to_zero_name_the_level() -> None:
    messages = errors_of(
        framework_yaml(
            """
            - {code: A1, name: a, definition: a, type: number, normalisation: minmax, weight: 0}
            - {code: A2, name: b, definition: b, type: number, normalisation: minmax, weight: 0}
            """
        )
    )
    assert "dimension A: the weights of A1, A2 sum to zero" in messages
    text = (
        framework_yaml()
        .replace("name: Dimension A", "name: Dimension A\n    weight: 0")
        .replace("name: Dimension B", "name: Dimension B\n    weight: 0")
    )
    assert "framework: the dimensions: the weights of A, B sum to zero" in errors_of(text)


def test_framework_level_errors() -> None:
    messages = errors_of(framework_yaml().replace("scale: 100", "scale: 10\naggregation: median"))
    assert any("scale must be 1" in m for m in messages)
    assert any("unknown aggregation 'median'" in m for m in messages)
    assert "framework: dimensions must be a non-empty list" in errors_of("code: t\nversion: '1'\ntitle: T\n")
    messages = errors_of("version: '1'\ndimensions: []\n")
    assert "framework: code is required" in messages
    assert "framework: title is required" in messages


def test_translations_must_name_known_codes_and_fields() -> None:
    extra = "translations:\n  fr:\n    ZZ9: {name: Inconnu}\n    A1: {colour: rouge}\n"
    messages = errors_of(framework_yaml(extra=extra))
    assert "translations.fr: 'ZZ9' is not a dimension or indicator code" in messages
    assert any(m.startswith("translations.fr.A1: unknown field 'colour'") for m in messages)


def test_every_problem_is_reported_at_once() -> None:
    indicators = """
    - {code: A1, name: a, definition: a, type: number, normalisation: softmax}
    - {code: A2, name: b, definition: b, type: number, normalisation: minmax, weight: -2}
    """
    messages = errors_of(framework_yaml(indicators))
    assert any("A1" in m for m in messages)
    assert any("A2" in m for m in messages)


def test_a_dimension_left_empty_is_named() -> None:
    text = framework_yaml().replace(
        "  - code: B\n    name: Dimension B\n    indicators:\n",
        "  - code: B\n    name: Dimension B\n    x_indicators:\n",
    )
    messages = errors_of(text)
    assert "dimension B: has no indicators and no sub-dimensions" in messages
    assert "dimension B: unknown key 'x_indicators'" in messages


# -- the catalogue of existing indices ---------------------------------------------------------------------


def test_catalogue_maps_five_indices_to_our_dimensions() -> None:
    from modules.assessment.indices import catalogue, gap_view

    indices = catalogue()
    assert [i.code for i in indices] == [
        "safe_cities",
        "cities_in_motion",
        "sdg_european_cities",
        "regions_cities_illustrated",
        "cultural_creative_cities",
    ]
    for index in indices:
        assert index.publisher
        assert index.scope
        assert index.method
        assert index.mapping
    rows = {row.dimension.code: row for row in gap_view(default_framework(), indices)}
    assert set(rows) == {d.code for d in default_framework().dimensions}
    assert rows["security_by_design"].is_gap
    assert rows["crime_prevention"].best == "strong"
    assert [i.code for i, _ in rows["crime_prevention"].entries][:2] == ["safe_cities", "cities_in_motion"]
    assert not rows["preparedness"].covered_for_small_cities


def test_catalogue_refuses_unknown_dimensions_and_strengths() -> None:
    from modules.assessment.indices import CatalogueError, parse_catalogue

    text = """
indices:
  - code: x
    name: X
    measures_action: maybe
    mapping:
      - {dimension: nowhere, strength: strong}
      - {dimension: governance, strength: huge}
"""
    with pytest.raises(CatalogueError) as caught:
        parse_catalogue(text, default_framework())
    assert caught.value.messages == [
        "index x: 'nowhere' is not a dimension of covenant-security",
        "index x, dimension governance: unknown strength 'huge'",
        "index x: measures_action must be yes, partly or no",
    ]
