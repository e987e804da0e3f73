"""``covenant assessment score`` and ``export-framework`` through click's runner."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from click.testing import CliRunner

from modules.assessment.cli import commands, export_framework, score
from modules.assessment.framework import Framework, default_framework

FRAMEWORK = """
code: tiny
version: '2'
title: Tiny
scale: 100
dimensions:
  - code: A
    name: A
    indicators:
      - {code: A1, name: a1, definition: a1, type: number, normalisation: goalposts, goalposts: [0, 10], weight: 1}
      - {code: A2, name: a2, definition: a2, type: yes_no, normalisation: goalposts, goalposts: [0, 1], weight: 3}
  - code: B
    name: B
    indicators:
      - {code: B1, name: b1, definition: b1, type: number, transform: per_1000, normalisation: minmax, minimum: 0,
         size_classes: [50k_250k, above_1m]}
"""


@pytest.fixture
def files(tmp_path: Path) -> Path:
    (tmp_path / "framework.yaml").write_text(FRAMEWORK, encoding="utf-8")
    return tmp_path


def run(*args: str) -> tuple[int, str, str]:
    """(exit code, standard output, standard error)."""
    result = CliRunner().invoke(score, list(args))
    return result.exit_code, result.stdout, result.stderr


def fails(*args: str) -> str:
    """The error output of a run that must fail."""
    code, out, err = run(*args)
    assert code == 1, out
    assert out == ""
    return err


def read(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_commands_are_exposed_for_the_plugin() -> None:
    assert [command.name for command in commands] == ["score", "export-framework"]


def test_score_writes_one_row_per_unit_with_dimensions_index_and_coverage(files: Path) -> None:
    (files / "values.csv").write_text(
        "unit,size_class,population,A1,A2,B1\n"
        "Ghent,50k_250k,200000,2,yes,100\n"
        "Tartu,50k_250k,100000,6,no,200\n"
        "Ohrid,below_50k,40000,,yes,999\n",
        encoding="utf-8",
    )
    code, out, _ = run("--framework", str(files / "framework.yaml"), "--data", str(files / "values.csv"))
    assert code == 0, out
    rows = read(out)
    assert list(rows[0]) == ["unit", "A", "B", "index", "coverage", "missing"]
    by_unit = {row["unit"]: row for row in rows}
    # Ghent: A = (0.2 + 3·1) / 4 = 80; B1 0.5 per 1,000 vs Tartu 2 → minmax 0; index (80 + 0) / 2 = 40
    assert by_unit["Ghent"] == {"unit": "Ghent", "A": "80", "B": "0", "index": "40", "coverage": "1", "missing": ""}
    # Tartu: A = (0.6 + 0) / 4 = 15; B = 100; index 57.5
    assert by_unit["Tartu"]["A"] == "15"
    assert by_unit["Tartu"]["index"] == "57.5"
    # Ohrid (small town): B1 does not apply; A1 missing → A = A2 alone = 100, coverage 1 of 2.
    assert by_unit["Ohrid"] == {
        "unit": "Ohrid",
        "A": "100",
        "B": "",
        "index": "100",
        "coverage": "0.5",
        "missing": "A1",
    }


def test_score_writes_to_a_file_and_accepts_semicolons(files: Path) -> None:
    (files / "values.csv").write_text("unit;A1;A2\nx;5;no\n", encoding="utf-8")
    out = files / "scores.csv"
    code, _, err = run(
        "--framework", str(files / "framework.yaml"), "--data", str(files / "values.csv"), "--out", str(out)
    )
    assert code == 0
    assert "Scored 1 units with tiny 2" in err
    row = read(out.read_text(encoding="utf-8"))[0]
    assert row["A"] == "12.5"
    assert row["missing"] == "B1"


def test_score_uses_the_shipped_framework_by_default(tmp_path: Path) -> None:
    (tmp_path / "values.csv").write_text("unit,INC01,GOV01\nx,yes,adopted\ny,no,none\n", encoding="utf-8")
    code, out, _ = run("--data", str(tmp_path / "values.csv"))
    assert code == 0, out
    rows = read(out)
    assert [d.code for d in default_framework().dimensions] == list(rows[0])[1:9]
    assert rows[0]["inclusivity"] == "100"


def test_uncertainty_adds_a_position_band(files: Path) -> None:
    (files / "values.csv").write_text("unit,A1,A2\nx,1,no\ny,5,yes\nz,9,yes\n", encoding="utf-8")
    code, out, _ = run(
        "--framework", str(files / "framework.yaml"), "--data", str(files / "values.csv"), "--uncertainty", "100"
    )
    assert code == 0, out
    rows = {row["unit"]: row for row in read(out)}
    assert rows["x"]["position_low"] == rows["x"]["position_high"] == "0"
    assert rows["z"]["position_high"] == "100"


def test_bad_values_are_reported_with_row_and_column(files: Path) -> None:
    framework, values = str(files / "framework.yaml"), files / "values.csv"
    values.write_text("unit,size_class,population,A1,A2,Z9\n", encoding="utf-8")
    assert "row 1, column Z9: unknown indicator code (not in framework tiny)" in fails(
        "--framework", framework, "--data", str(values)
    )
    values.write_text(
        "unit,size_class,population,A1,A2\n"
        "a,huge,1000,3,yes\n"
        "b,below_50k,many,x,maybe\n"
        "a,below_50k,-5,1,no\n"
        ",below_50k,100,1,no\n",
        encoding="utf-8",
    )
    err = fails("--framework", framework, "--data", str(values))
    for message in (
        "row 2, column size_class: unknown size class 'huge'",
        "row 3, column population: expected a number, got 'many'",
        "row 3, column A1: A1: expected a number, got 'x'",
        "row 3, column A2: A2: expected yes or no, got 'maybe'",
        "row 4, column unit: 'a' already on row 2",
        "row 4, column population: must be above 0",
        "row 5, column unit: empty",
    ):
        assert message in err, err


def test_missing_unit_column_empty_file_and_engine_errors(files: Path) -> None:
    framework, values = str(files / "framework.yaml"), files / "values.csv"
    values.write_text("A1,A2\n1,yes\n", encoding="utf-8")
    assert "row 1: the header has no 'unit' column" in fails("--framework", framework, "--data", str(values))
    values.write_text("", encoding="utf-8")
    assert "the file is empty" in fails("--framework", framework, "--data", str(values))
    values.write_text("unit,A1\n", encoding="utf-8")
    assert "the file has a header but no rows" in fails("--framework", framework, "--data", str(values))
    # per_1000 without a population column: the engine names the indicator.
    values.write_text("unit,size_class,B1\nx,above_1m,4\n", encoding="utf-8")
    assert "B1: per_1000 needs the population" in fails("--framework", framework, "--data", str(values))


def test_a_bad_framework_lists_its_problems(files: Path) -> None:
    bad = FRAMEWORK.replace("normalisation: minmax", "normalisation: softmax")
    (files / "bad.yaml").write_text(bad, encoding="utf-8")
    (files / "values.csv").write_text("unit\nx\n", encoding="utf-8")
    err = fails("--framework", str(files / "bad.yaml"), "--data", str(files / "values.csv"))
    assert "the framework has 1 problem(s)" in err
    assert "indicator B1: unknown normalisation 'softmax'" in err


def test_export_framework_round_trips(tmp_path: Path) -> None:
    result = CliRunner().invoke(export_framework, [])
    assert result.exit_code == 0
    assert Framework.from_yaml(result.stdout) == default_framework()
    result = CliRunner().invoke(export_framework, ["--out", str(tmp_path / "f.yaml")])
    assert result.exit_code == 0
    assert Framework.from_yaml((tmp_path / "f.yaml").read_text(encoding="utf-8")) == default_framework()
