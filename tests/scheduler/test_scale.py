"""A national-shaped instance from the benchmark's generator.

Checks what the benchmark reports, without timing: the solution is valid and
books exactly the lexicographic optimum computed by independent max flows.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import numpy as np

from scheduler import Config, schedule
from scheduler.check import check

BENCH = Path(__file__).resolve().parents[2] / "bench" / "scheduler.py"


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("scheduler_bench", BENCH)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generated_instance_is_valid_and_lexicographically_optimal() -> None:
    bench = _bench()
    problem = bench.generate(200_000, 120, 7, seed=11)
    config = Config()
    result = schedule(problem, config)

    assert check(result, config) == []
    optimum = bench.prefix_optimum(bench.Instance(problem, config))
    t = problem.citizens
    main = result.appointment_dose == t.dose[result.appointment_row]
    groups = bench._groups(problem)[result.appointment_row[main]]
    achieved = np.cumsum(np.bincount(groups, minlength=len(optimum)))
    assert achieved.tolist() == optimum.tolist()
    assert len(result.standby_row) > 0
