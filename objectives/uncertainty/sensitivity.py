"""Which assumed constants decide a point's metrics: variance-based (Sobol') indices.

For one point of a problem (its knobs), each output ``Y`` (a metric, or a quantity derived
from the metrics, such as a verdict's margin) is a function of the constants drawn
independently over their ranges (``objectives.uncertainty.draws``: log-uniform over a range
of a decade or more, else uniform). Its total-order index for constant ``X_i``,

    ``ST_i = E[Var(Y | X_~i)] / Var(Y)``,

is the share of ``Var(Y)`` that involves ``X_i`` (alone or with others): the share of the
variance that would go if ``X_i`` were known exactly. ``ST_i = 0`` means ``X_i`` does not
matter; the ``ST_i`` may add up to more than 1 when constants interact. The first-order index
``S1_i = Var(E[Y | X_i]) / Var(Y)`` is the share ``X_i`` explains alone.

Method (SALib, Herman and Usher 2017, JOSS 2(9) 97): Saltelli's sampling scheme with a
scrambled Sobol' sequence, ``N (k + 2)`` evaluations for ``k`` constants and ``N`` base samples
(``SALib.sample.sobol``, no second-order terms), and Jansen's estimators with bootstrap 95%
confidence intervals (``SALib.analyze.sobol``).

Screening first (an assumption, stated): ``k`` evaluations per base sample is costly, so the
constants are screened one at a time: each is set to its range's low and high end with the
others at the scenario's values; a constant whose two ends give the same value of every output
is left out (its index is taken as 0), and of the rest at most ``max_constants`` are kept,
those with the largest swing on some output relative to that output's largest swing. One-at-a-
time screening misses a constant that matters only through interactions with another; the
result lists what was screened out.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from objectives.problems.base import Problem
from objectives.uncertainty.draws import to_ranges
from objectives.uncertainty.plan import assumed_constants, drawable_constants

DEFAULT_SAMPLES = 64
MAX_CONSTANTS = 10
CHUNK = 512
"""(draw, point) evaluations per ``evaluate_under_each`` call (bounds memory)."""

Derive = Callable[[Problem, Sequence[Mapping[str, float]]], Mapping[str, float]]
"""Outputs of one draw from the metrics of each evaluated point under it (and the problem
under the draw)."""


@dataclass(frozen=True)
class Index:
    """One constant's indices for one output."""

    constant: str
    total: float
    total_conf: float
    first: float
    first_conf: float


@dataclass(frozen=True)
class Sensitivity:
    """The indices of every output, each ranked by total-order index (largest first)."""

    outputs: dict[str, list[Index]]
    variance: dict[str, float]
    """Each output's variance over the samples (0: no constant moves it)."""
    kept: tuple[str, ...]
    screened_out: tuple[str, ...]
    samples: int
    evaluations: int
    seed: int
    swings: dict[str, dict[str, float]] = field(default_factory=dict)
    """Screening: output -> constant -> |value at high - value at low|."""

    def as_dict(self) -> dict[str, Any]:
        """Plain data for JSON."""
        return {
            "method": "sobol (SALib: Saltelli sampling, Jansen estimators)",
            "samples": self.samples,
            "evaluations": self.evaluations,
            "seed": self.seed,
            "constants": list(self.kept),
            "screened_out": list(self.screened_out),
            "outputs": {
                name: {
                    "variance": self.variance[name],
                    "ranking": [
                        {
                            "constant": i.constant,
                            "total": i.total,
                            "total_conf": i.total_conf,
                            "first": i.first,
                            "first_conf": i.first_conf,
                        }
                        for i in ranking
                    ],
                }
                for name, ranking in self.outputs.items()
            },
        }


def sensitivity(
    problem: Problem,
    points: Sequence[Mapping[str, Any]],
    outputs: Sequence[str],
    *,
    derive: Derive | None = None,
    constants: Sequence[str] | None = None,
    samples: int = DEFAULT_SAMPLES,
    seed: int = 0,
    max_constants: int = MAX_CONSTANTS,
) -> Sensitivity:
    """Sobol' indices of ``constants`` for each output at ``points`` (module docstring).

    Args:
        problem: a problem with scenario constants (``Problem.under``).
        points: the points evaluated under each draw (checked by ``problem``); the outputs are
            the first point's metrics unless ``derive`` says otherwise (e.g. a policy and the
            baseline, for a verdict's margin).
        outputs: the output names (metric names, or the keys ``derive`` returns).
        derive: outputs of one draw from each point's metrics under it.
        constants: the constants varied (default: every assumed constant).
        samples: base samples ``N`` (a power of two; ``N (k + 2)`` evaluations).
        seed: scrambles the Sobol' sequence and seeds the bootstrap.
        max_constants: at most this many constants pass the screening.

    Raises:
        ValueError: ``samples`` is not a power of two, or there are no outputs.
        InputError: the problem has no constants, or a constant is unknown.
    """
    from SALib.analyze import sobol as analyze  # imported on use: it takes a second
    from SALib.sample import sobol as sample

    if samples < 2 or samples & (samples - 1):
        raise ValueError(f"samples must be a power of two >= 2, got {samples}")
    if not outputs:
        raise ValueError("no outputs to rank constants for")
    names = tuple(constants) if constants is not None else assumed_constants()
    checked = [problem.check(p) for p in points]
    derive = derive or _first_point(outputs)
    swings = _screen(problem, checked, outputs, names, derive)
    kept, out = _keep(names, swings, max_constants)
    ranked: dict[str, list[Index]] = {name: [] for name in outputs}
    variance = dict.fromkeys(outputs, 0.0)
    evaluations = 2 * len(names)
    if kept:
        spec = {"num_vars": len(kept), "names": list(kept), "bounds": [[0.0, 1.0]] * len(kept)}
        unit = sample.sample(spec, samples, calc_second_order=False, scramble=True, seed=seed)
        values = _evaluate(problem, checked, outputs, kept, to_ranges(unit, kept), derive)
        evaluations += len(unit)
        for j, name in enumerate(outputs):
            y = values[:, j]
            if not np.all(np.isfinite(y)) or np.ptp(y) == 0.0:
                variance[name] = 0.0 if np.all(np.isfinite(y)) else float("nan")
                continue
            variance[name] = float(np.var(y))
            # SALib seeds its bootstrap only for a true seed (``if seed:``): 0 would be random
            result = analyze.analyze(
                spec, y, calc_second_order=False, print_to_console=False, seed=seed + 1
            )
            ranked[name] = sorted(
                (
                    Index(c, float(st), float(stc), float(s1), float(s1c))
                    for c, st, stc, s1, s1c in zip(
                        kept,
                        result["ST"],
                        result["ST_conf"],
                        result["S1"],
                        result["S1_conf"],
                        strict=True,
                    )
                ),
                key=lambda index: -index.total,
            )
    return Sensitivity(
        outputs=ranked,
        variance=variance,
        kept=kept,
        screened_out=out,
        samples=samples,
        evaluations=evaluations,
        seed=seed,
        swings=swings,
    )


def _first_point(outputs: Sequence[str]) -> Derive:
    def derive(problem: Problem, rows: Sequence[Mapping[str, float]]) -> Mapping[str, float]:
        return {name: rows[0][name] for name in outputs}

    return derive


def _screen(
    problem: Problem,
    points: list[dict[str, Any]],
    outputs: Sequence[str],
    names: tuple[str, ...],
    derive: Derive,
) -> dict[str, dict[str, float]]:
    """Output -> constant -> swing between the constant's low and high end, others fixed."""
    table = drawable_constants()
    settings = []
    for name in names:
        settings += [{name: table[name].low}, {name: table[name].high}]
    values = _run(problem, points, outputs, settings, derive)
    swing = np.abs(values[1::2] - values[0::2])  # (constants, outputs)
    swing = np.where(np.isnan(swing), np.inf, swing)  # a NaN at one end: it matters
    return {
        out: {c: float(swing[i, j]) for i, c in enumerate(names)} for j, out in enumerate(outputs)
    }


def _keep(
    names: tuple[str, ...], swings: dict[str, dict[str, float]], limit: int
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The constants that move some output, the ``limit`` largest relative swings first."""
    score = dict.fromkeys(names, 0.0)
    for per in swings.values():
        top = max(per.values(), default=0.0)
        if top > 0:
            for c, s in per.items():
                score[c] = max(score[c], 1.0 if s == np.inf else s / top)
    moving = sorted((c for c in names if score[c] > 0), key=lambda c: -score[c])
    kept = tuple(c for c in names if c in moving[:limit])  # table order
    return kept, tuple(c for c in names if c not in kept)


def _evaluate(
    problem: Problem,
    points: list[dict[str, Any]],
    outputs: Sequence[str],
    names: tuple[str, ...],
    table: np.ndarray,
    derive: Derive,
) -> np.ndarray:
    settings = [dict(zip(names, map(float, row), strict=True)) for row in table]
    return _run(problem, points, outputs, settings, derive)


def _run(
    problem: Problem,
    points: list[dict[str, Any]],
    outputs: Sequence[str],
    settings: list[dict[str, float]],
    derive: Derive,
) -> np.ndarray:
    """Outputs (settings, outputs) of ``points`` under each setting of constants."""
    out = np.empty((len(settings), len(outputs)))
    step = max(1, CHUNK // max(1, len(points)))
    for start in range(0, len(settings), step):
        chunk = [problem.under(s) for s in settings[start : start + step]]
        rows = problem.evaluate_under_each(points, chunk)
        for i, (under, draw) in enumerate(zip(chunk, rows, strict=True)):
            derived = derive(under, draw)
            out[start + i] = [derived[name] for name in outputs]
    return out
