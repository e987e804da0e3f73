"""Benchmark of the assessment engine (issue 4): scoring 10,000 cities x 60 indicators, and the Monte Carlo
uncertainty analysis of 1,000 draws over 1,000 cities. Target: under one second each.

Standalone: NumPy and the engine only, no database. Run ``python benchmarks/assessment_engine.py`` (prints
JSON) or call :func:`run`. Each measurement is the median of ``repeat`` runs after one warm-up.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

# The products are small (1,000 x 8 by 8 x 1,000): BLAS threads only add overhead and contention.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
for path in (str(ROOT / "platform"), str(ROOT)):
    if path not in sys.path:
        sys.path.insert(0, path)

from modules.assessment import engine  # noqa: E402
from modules.assessment.framework import SIZE_CLASSES, Framework  # noqa: E402

TARGET_SECONDS = 1.0
NORMALISATIONS = ("goalposts", "minmax", "percentile", "zscore", "target")


def synthetic_framework(n_dimensions: int = 8, n_indicators: int = 60) -> Framework:
    """A framework of ``n_indicators`` spread over ``n_dimensions``, mixing every normalisation, a per-1,000
    transform and size classes (every fifth indicator skipped by small towns)."""
    dimensions = []
    for d in range(n_dimensions):
        indicators = []
        for i in range(d, n_indicators, n_dimensions):
            method = NORMALISATIONS[i % len(NORMALISATIONS)]
            indicator = {
                "code": f"I{i:02d}",
                "name": f"Indicator {i}",
                "definition": "Synthetic",
                "type": "number",
                "normalisation": method,
                "minimum": 0,
                "weight": 1 + (i % 3),
            }
            if method == "goalposts":
                indicator["goalposts"] = [0, 100]
            if method == "target":
                indicator["target"] = 80
            if i % 7 == 0:
                indicator["transform"] = "per_1000"
            if i % 5 == 0:
                indicator["size_classes"] = list(SIZE_CLASSES[1:])
            indicators.append(indicator)
        dimensions.append({"code": f"D{d}", "name": f"Dimension {d}", "indicators": indicators})
    return Framework.from_dict(
        {"code": "bench", "version": "1", "title": "Benchmark", "scale": 100, "dimensions": dimensions}
    )


def cohort(framework: Framework, n_units: int, seed: int = 0) -> dict[str, object]:
    rng = np.random.default_rng(seed)
    values = rng.uniform(0, 100, size=(n_units, len(framework.indicators)))
    values[rng.random(values.shape) < 0.08] = np.nan  # about 8 % left empty
    sizes = rng.choice(SIZE_CLASSES, size=n_units)
    return {
        "units": [f"city-{i}" for i in range(n_units)],
        "values": values,
        "size_classes": list(sizes),
        "population": rng.uniform(10_000, 2_000_000, size=n_units),
    }


def _time(function: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Median wall-clock and CPU seconds (CPU time shows the cost when other processes share the machine)."""
    function()  # warm-up
    wall, cpu = [], []
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        function()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return statistics.median(wall), statistics.median(cpu)


def run(repeat: int = 3) -> dict[str, object]:
    """Time both operations; returns wall and CPU seconds, sizes, and whether each met the one-second target
    (on wall-clock time)."""
    framework = synthetic_framework()
    big = cohort(framework, 10_000)
    small = cohort(framework, 1_000, seed=1)

    def scoring() -> object:
        return engine.score(
            framework,
            big["units"],  # type: ignore[arg-type]
            big["values"],  # type: ignore[arg-type]
            size_classes=big["size_classes"],  # type: ignore[arg-type]
            population=big["population"],  # type: ignore[arg-type]
        )

    def monte_carlo() -> object:
        return engine.what_if(
            framework,
            small["units"],  # type: ignore[arg-type]
            small["values"],  # type: ignore[arg-type]
            peer_groups=small["size_classes"],  # type: ignore[arg-type]
            draws=1_000,
            seed=0,
            size_classes=small["size_classes"],  # type: ignore[arg-type]
            population=small["population"],  # type: ignore[arg-type]
        )

    score_seconds, score_cpu = _time(scoring, repeat)
    what_if_seconds, what_if_cpu = _time(monte_carlo, repeat)
    return {
        "score": {
            "units": 10_000,
            "indicators": len(framework.indicators),
            "seconds": round(score_seconds, 4),
            "cpu_seconds": round(score_cpu, 4),
            "target_seconds": TARGET_SECONDS,
            "ok": score_seconds < TARGET_SECONDS,
        },
        "what_if": {
            "units": 1_000,
            "draws": 1_000,
            "indicators": len(framework.indicators),
            "seconds": round(what_if_seconds, 4),
            "cpu_seconds": round(what_if_cpu, 4),
            "target_seconds": TARGET_SECONDS,
            "ok": what_if_seconds < TARGET_SECONDS,
        },
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
