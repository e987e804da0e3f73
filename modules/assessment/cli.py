"""Command line: ``covenant assessment score`` runs the engine on any framework and any table of values, and
``covenant assessment export-framework`` writes the shipped framework as YAML to start a new version from.

The core mounts :data:`commands` under ``covenant assessment``. Nothing here touches the database.
"""

from __future__ import annotations

import csv
import io
import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import click
import numpy as np

from modules.assessment import engine
from modules.assessment.framework import SIZE_CLASSES, Framework, FrameworkError, default_framework

UNIT_COLUMN = "unit"
SIZE_COLUMN = "size_class"
POPULATION_COLUMN = "population"
MAX_REPORTED = 50


@dataclass(frozen=True)
class ValuesTable:
    """A values file read against a framework: one row per unit, columns in the framework's indicator order."""

    units: list[str]
    values: np.ndarray
    size_classes: list[str | None] | None
    population: list[float | None] | None


class ValuesFileError(ValueError):
    """Problems in a values file; each message names the row (as numbered in a spreadsheet) and column."""

    def __init__(self, messages: Sequence[str]) -> None:
        self.messages = list(messages)
        super().__init__("; ".join(self.messages))


def read_values(framework: Framework, text: str) -> ValuesTable:
    """Parse a values CSV (comma, semicolon or tab separated). Row numbers count the header as row 1."""
    text = text.lstrip("\ufeff")
    if not text.strip():
        raise ValuesFileError(["the file is empty"])
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(text.splitlines()[0], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    rows = list(csv.reader(io.StringIO(text), dialect))
    header = [cell.strip() for cell in rows[0]]
    errors: list[str] = []
    codes = framework.indicator_codes
    known = {*codes, UNIT_COLUMN, SIZE_COLUMN, POPULATION_COLUMN}
    if UNIT_COLUMN not in header:
        raise ValuesFileError([f"row 1: the header has no {UNIT_COLUMN!r} column"])
    seen: set[str] = set()
    for position, name in enumerate(header, start=1):
        if not name:
            errors.append(f"row 1, column {position}: empty column name")
        elif name not in known:
            errors.append(f"row 1, column {name}: unknown indicator code (not in framework {framework.code})")
        elif name in seen:
            errors.append(f"row 1, column {name}: the column appears twice")
        seen.add(name)
    if errors:
        raise ValuesFileError(errors)

    column_of = {name: position for position, name in enumerate(header)}
    indicators = framework.indicators
    units: list[str] = []
    matrix: list[list[float]] = []
    sizes: list[str | None] = []
    population: list[float | None] = []
    unit_rows: dict[str, int] = {}
    for row_number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) > len(header):
            errors.append(f"row {row_number}: {len(row)} cells for {len(header)} columns")
            continue
        cells = [cell.strip() for cell in row] + [""] * (len(header) - len(row))
        unit = cells[column_of[UNIT_COLUMN]]
        if not unit:
            errors.append(f"row {row_number}, column {UNIT_COLUMN}: empty")
        elif unit in unit_rows:
            errors.append(f"row {row_number}, column {UNIT_COLUMN}: {unit!r} already on row {unit_rows[unit]}")
        unit_rows.setdefault(unit, row_number)
        size: str | None = None
        if SIZE_COLUMN in column_of:
            size = cells[column_of[SIZE_COLUMN]] or None
            if size is not None and size not in SIZE_CLASSES:
                errors.append(
                    f"row {row_number}, column {SIZE_COLUMN}: unknown size class {size!r} "
                    f"(allowed: {', '.join(SIZE_CLASSES)})"
                )
        people: float | None = None
        if POPULATION_COLUMN in column_of and cells[column_of[POPULATION_COLUMN]]:
            raw = cells[column_of[POPULATION_COLUMN]].replace(" ", "").replace("_", "")
            try:
                people = float(raw)
            except ValueError:
                errors.append(f"row {row_number}, column {POPULATION_COLUMN}: expected a number, got {raw!r}")
            else:
                if not math.isfinite(people) or people <= 0:
                    errors.append(f"row {row_number}, column {POPULATION_COLUMN}: must be above 0")
                    people = None
        line = [math.nan] * len(indicators)
        for index, indicator in enumerate(indicators):
            if indicator.code not in column_of:
                continue
            try:
                value = indicator.parse(cells[column_of[indicator.code]])
            except ValueError as error:
                errors.append(f"row {row_number}, column {indicator.code}: {error}")
                continue
            line[index] = math.nan if value is None else value
        units.append(unit)
        matrix.append(line)
        sizes.append(size)
        population.append(people)
    if errors:
        raise ValuesFileError(errors)
    if not units:
        raise ValuesFileError(["the file has a header but no rows"])
    values = np.array(matrix, dtype=np.float64)
    return ValuesTable(
        units=units,
        values=values,
        size_classes=sizes if SIZE_COLUMN in column_of else None,
        population=population if POPULATION_COLUMN in column_of else None,
    )


def scores_table(
    framework: Framework, scores: engine.Scores, bands: dict[str, tuple[float, float]] | None = None
) -> list[list[str]]:
    """Rows of the output CSV: unit, one column per dimension, index, coverage, missing indicator codes."""
    dimension_codes = [dimension.code for dimension in framework.dimensions]
    header = [UNIT_COLUMN, *dimension_codes, "index", "coverage", "missing"]
    if bands is not None:
        header += ["position_low", "position_high"]
    rows = [header]
    for unit in scores.units:
        row = scores.row(unit)
        line = [unit, *(_number(row[code]) for code in dimension_codes), _number(row["index"])]
        line += [_number(row["coverage"]), " ".join(scores.missing[unit])]
        if bands is not None:
            band = bands.get(unit)
            line += [_number(band[0]), _number(band[1])] if band else ["", ""]
        rows.append(line)
    return rows


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:.4f}".rstrip("0").rstrip(".")


def _fail(title: str, messages: Sequence[str]) -> click.ClickException:
    shown = list(messages[:MAX_REPORTED])
    if len(messages) > MAX_REPORTED:
        shown.append(f"… and {len(messages) - MAX_REPORTED} more")
    return click.ClickException(title + "\n  " + "\n  ".join(shown))


def load_framework(path: Path | None) -> Framework:
    if path is None:
        return default_framework()
    try:
        return Framework.from_yaml(path.read_text(encoding="utf-8"))
    except FrameworkError as error:
        raise _fail(f"{path}: the framework has {len(error.messages)} problem(s):", error.messages) from None
    except (OSError, UnicodeDecodeError) as error:
        raise click.ClickException(f"{path}: cannot read the framework: {error}") from None


@click.command("score")
@click.option(
    "--framework",
    "framework_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Framework YAML (default: the framework shipped with the module).",
)
@click.option(
    "--data",
    "data_path",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="CSV with a 'unit' column, one column per indicator code, optional 'size_class' and 'population'.",
)
@click.option(
    "--out",
    "out_path",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Where to write the scores CSV (default: standard output).",
)
@click.option(
    "--uncertainty",
    "draws",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Monte Carlo draws of weights and normalisation; adds each unit's position band (5th-95th percentile) "
    "within its size class (or the whole file without size_class). 0 = off.",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the Monte Carlo.")
def score(framework_path: Path | None, data_path: Path, out_path: Path | None, draws: int, seed: int) -> None:
    """Score every unit of a values CSV with a framework: one row per unit with each dimension, the index,
    the coverage (share of applicable indicators answered) and the applicable indicators left empty."""
    framework = load_framework(framework_path)
    try:
        text = data_path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise click.ClickException(f"{data_path}: cannot read the values: {error}") from None
    try:
        table = read_values(framework, text)
    except ValuesFileError as error:
        raise _fail(f"{data_path}: {len(error.messages)} problem(s):", error.messages) from None
    try:
        result = engine.score(
            framework,
            table.units,
            table.values,
            size_classes=table.size_classes,
            population=table.population,
        )
        bands = None
        if draws:
            groups = [size or "all" for size in (table.size_classes or [None] * len(table.units))]
            bands = engine.what_if(
                framework,
                table.units,
                table.values,
                peer_groups=groups,
                draws=draws,
                seed=seed,
                size_classes=table.size_classes,
                population=table.population,
            )
    except engine.EngineError as error:
        raise _fail(f"{data_path}: cannot score:", error.messages) from None
    rows = scores_table(framework, result, bands)
    if out_path is None:
        _write_csv(sys.stdout, rows)
    else:
        with out_path.open("w", encoding="utf-8", newline="") as handle:
            _write_csv(handle, rows)
        click.echo(f"Scored {len(table.units)} units with {framework.code} {framework.version} → {out_path}", err=True)


@click.command("export-framework")
@click.option(
    "--out",
    "out_path",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Where to write the YAML (default: standard output).",
)
def export_framework(out_path: Path | None) -> None:
    """Write the framework shipped with the module as YAML (the documented format), to edit into a new version."""
    text = default_framework().to_yaml()
    if out_path is None:
        click.echo(text, nl=False)
    else:
        out_path.write_text(text, encoding="utf-8")
        click.echo(f"Wrote {out_path}", err=True)


def _write_csv(handle: IO[str], rows: list[list[str]]) -> None:
    writer = csv.writer(handle, lineterminator="\n")
    writer.writerows(rows)


commands = [score, export_framework]
