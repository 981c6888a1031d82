"""Analytic test problems with known Pareto fronts, runnable as search jobs.

A job that names ``benchmark: zdt1`` instead of a scenario searches the problem's variables
``x0 .. x{n-1}`` (each in [0, 1]) for its objectives ``f1, f2 (, f3)``, all minimised. The
true front is known, so a search and the Pareto analysis can be checked against ground truth:
the share of the true front's hypervolume a search reaches, with the problem's reference
point.

Problems (Zitzler, Deb and Thiele 2000; Deb, Thiele, Laumanns and Zitzler 2002), with
``g = 1 + 9 / (n - 1) x sum(x1 .. x{n-1})`` for the ZDT family:

* ``zdt1``: ``f1 = x0``, ``f2 = g (1 - sqrt(f1 / g))``; convex front ``f2 = 1 - sqrt(f1)``.
* ``zdt2``: ``f2 = g (1 - (f1 / g)^2)``; concave front ``f2 = 1 - f1^2``.
* ``zdt3``: ``f2 = g (1 - sqrt(f1 / g) - f1 / g sin(10 pi f1))``; a front in five pieces.
* ``dtlz2``: three objectives on the unit sphere's positive octant, ``g = sum((x_i -
  0.5)^2)`` over ``x2 ..``; front ``f1^2 + f2^2 + f3^2 = 1``.

Their variables are few (3 for ZDT, 4 for DTLZ2; the papers use 30 and 12) so that a search
of a few hundred trials can get close to the front.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from objectives.core.errors import InputError
from objectives.core.metric_spec import MetricSpec
from objectives.core.policy import Knob
from objectives.problems.base import Problem


@dataclass(frozen=True)
class Benchmark(Problem):
    """One analytic problem: its variables, objectives, true front and reference point.

    A ``Problem`` whose points are the variables ``x0 ..`` (missing ones are 0.5, the middle);
    it has no baseline and no kernel scenario.
    """

    kind = "benchmark"
    name: str
    description: str
    variables: int
    objectives: tuple[str, ...]
    reference: tuple[float, ...]
    function: Callable[[np.ndarray], np.ndarray]
    front_sampler: Callable[[int], np.ndarray]

    @property
    def variable_names(self) -> tuple[str, ...]:
        """The variable names a job searches: ``x0 .. x{n-1}``, each in [0, 1]."""
        return tuple(f"x{i}" for i in range(self.variables))

    def knobs(self) -> dict[str, Knob]:
        """The variables as searchable knobs (floats in [0, 1])."""
        return {
            name: Knob(
                name,
                "benchmark",
                name,
                float,
                0.5,
                {"min": 0.0, "max": 1.0, "unit": "", "help": f"variable {name} of {self.name}"},
            )
            for name in self.variable_names
        }

    def metrics(self) -> dict[str, MetricSpec]:
        """The objectives as metrics (all minimised)."""
        return {
            name: MetricSpec(name, "", "minimize", f"objective {name} of {self.name}", "benchmark")
            for name in self.objectives
        }

    def describe(self) -> dict[str, str]:
        return {"benchmark": self.name, "description": self.description}

    def default_space(self) -> dict[str, Any]:
        """Every variable over [0, 1]."""
        return {name: {"low": 0.0, "high": 1.0} for name in self.variable_names}

    def _evaluate(self, params: dict[str, Any]) -> dict[str, float]:
        x = np.array([float(params.get(name, 0.5)) for name in self.variable_names])
        return dict(zip(self.objectives, map(float, self.function(x)), strict=True))

    def true_front(self, points: int = 1000) -> np.ndarray:
        """About ``points`` points of the true Pareto front (points x objectives)."""
        return self.front_sampler(points)

    def to_mapping(self) -> dict[str, str]:
        """How a study stores the problem."""
        return {"benchmark": self.name}

    @classmethod
    def from_job(cls, ref: Any, *, source: str, relative_to: Path | None = None) -> Benchmark:
        """The benchmark a job names under ``benchmark:``."""
        return _named(ref, source, "benchmark")

    @classmethod
    def from_mapping(cls, data: Any, *, source: str) -> Benchmark:
        """The benchmark a study stored (``{"benchmark": NAME}``)."""
        return _named(data.get("benchmark"), source, "benchmark")


def _named(name: Any, source: str, key: str) -> Benchmark:
    if not isinstance(name, str) or name not in BENCHMARKS:
        raise InputError(source, key, f"found {name!r}, expected one of: {', '.join(BENCHMARKS)}")
    return BENCHMARKS[name]


def _g_zdt(x: np.ndarray) -> float:
    return 1.0 + 9.0 * float(np.sum(x[1:])) / (len(x) - 1)


def _zdt1(x: np.ndarray) -> np.ndarray:
    g = _g_zdt(x)
    return np.array([x[0], g * (1.0 - math.sqrt(x[0] / g))])


def _zdt2(x: np.ndarray) -> np.ndarray:
    g = _g_zdt(x)
    return np.array([x[0], g * (1.0 - (x[0] / g) ** 2)])


def _zdt3(x: np.ndarray) -> np.ndarray:
    g = _g_zdt(x)
    ratio = x[0] / g
    return np.array([x[0], g * (1.0 - math.sqrt(ratio) - ratio * math.sin(10 * math.pi * x[0]))])


def _dtlz2(x: np.ndarray) -> np.ndarray:
    g = float(np.sum((x[2:] - 0.5) ** 2))
    a, b = x[0] * math.pi / 2, x[1] * math.pi / 2
    return (1.0 + g) * np.array([math.cos(a) * math.cos(b), math.cos(a) * math.sin(b), math.sin(a)])


def _front_2d(curve: Callable[[np.ndarray], np.ndarray]) -> Callable[[int], np.ndarray]:
    def sample(points: int) -> np.ndarray:
        f1 = np.linspace(0.0, 1.0, points)
        return np.column_stack([f1, curve(f1)])

    return sample


def _zdt3_front(points: int) -> np.ndarray:
    f1 = np.linspace(0.0, 0.852, 20 * points)
    f2 = 1.0 - np.sqrt(f1) - f1 * np.sin(10 * np.pi * f1)
    costs = np.column_stack([f1, f2])
    # The true front is the non-dominated part of that curve.
    keep = f2 < np.concatenate(([np.inf], np.minimum.accumulate(f2)[:-1]))
    return costs[keep]


def _dtlz2_front(points: int) -> np.ndarray:
    side = max(2, int(math.sqrt(points)))
    a, b = np.meshgrid(np.linspace(0, np.pi / 2, side), np.linspace(0, np.pi / 2, side))
    return np.column_stack(
        [(np.cos(a) * np.cos(b)).ravel(), (np.cos(a) * np.sin(b)).ravel(), np.sin(a).ravel()]
    )


BENCHMARKS: dict[str, Benchmark] = {
    b.name: b
    for b in (
        Benchmark(
            "zdt1",
            "ZDT1, convex front f2 = 1 - sqrt(f1)",
            3,
            ("f1", "f2"),
            (1.1, 1.1),
            _zdt1,
            _front_2d(lambda f1: 1.0 - np.sqrt(f1)),
        ),
        Benchmark(
            "zdt2",
            "ZDT2, concave front f2 = 1 - f1^2",
            3,
            ("f1", "f2"),
            (1.1, 1.1),
            _zdt2,
            _front_2d(lambda f1: 1.0 - f1**2),
        ),
        Benchmark(
            "zdt3",
            "ZDT3, front in five disconnected pieces",
            3,
            ("f1", "f2"),
            (1.1, 1.1),
            _zdt3,
            _zdt3_front,
        ),
        Benchmark(
            "dtlz2",
            "DTLZ2, three objectives on the unit sphere",
            4,
            ("f1", "f2", "f3"),
            (1.1, 1.1, 1.1),
            _dtlz2,
            _dtlz2_front,
        ),
    )
}
