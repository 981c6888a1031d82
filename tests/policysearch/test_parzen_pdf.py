"""``jobs/parzen_pdf.py``: the log-density of Optuna's Parzen estimator with kept kernel
normalisers equals Optuna's own, bit for bit, ask after ask.

Each step fits Optuna's estimator on a sliding set of trials (most kernels the same as the
step before, a few new, bandwidths changing next to them), and compares ``KernelMasses`` with
``_ParzenEstimator.log_pdf`` on its own samples: float, log-float, integer and categorical
parameters; a small and a large estimator (Optuna switches ``erf`` implementations at 2,000
kernel-parameter pairs), nine continuous parameters (NumPy sums 8 or more pairwise), samples on
the range's edges and outside it."""

from __future__ import annotations

import numpy as np
import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from optuna.samplers._tpe.parzen_estimator import _ParzenEstimator, _ParzenEstimatorParameters
from optuna.samplers._tpe.sampler import default_weights

from policysearch.jobs.parzen_pdf import KernelMasses

MIXED = {
    "x": FloatDistribution(0.0, 1.0),
    "scale": FloatDistribution(0.1, 10.0, log=True),
    "cpus": IntDistribution(1, 32),
    "mode": CategoricalDistribution(["a", "b", "c"]),
}
FLOATS = {f"x{i}": FloatDistribution(-2.0, 3.0) for i in range(5)}
WIDE = {f"x{i}": FloatDistribution(0.0, 1.0) for i in range(9)}  # NumPy sums 8+ pairwise
PARAMETERS = _ParzenEstimatorParameters(1.0, True, False, default_weights, True)


def _draw(space: dict, rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    out = {}
    for name, d in space.items():
        if isinstance(d, CategoricalDistribution):
            out[name] = rng.integers(0, len(d.choices), n)
        elif isinstance(d, IntDistribution):
            out[name] = rng.integers(d.low, d.high + 1, n).astype(float)
        elif d.log:
            out[name] = np.exp(rng.uniform(np.log(d.low), np.log(d.high), n))
        else:  # clustered near the low end: kernels cut by the range (left, right, central)
            out[name] = d.low + (d.high - d.low) * rng.beta(0.5, 2.0, n)
    return out


@pytest.mark.parametrize(("space", "size"), [(MIXED, 60), (FLOATS, 450), (WIDE, 80)])
def test_log_pdf_is_optunas_ask_after_ask(space: dict, size: int) -> None:
    rng = np.random.default_rng(1)
    total = size + 40
    values = _draw(space, rng, total)
    masses = KernelMasses()
    for step in range(0, 40, 3):  # a sliding window of trials: most kernels are kept
        numbers = np.arange(step, step + size)
        observed = {name: column[numbers] for name, column in values.items()}
        estimator = _ParzenEstimator(observed, space, PARAMETERS)
        samples = estimator.sample(np.random.RandomState(step), 24)
        points = np.array([samples[name] for name in space]).T
        if step == 0:  # the range's own edges, and a point outside it, are samples too
            edges = [d.low if isinstance(d, FloatDistribution) else 0 for d in space.values()]
            beyond = [
                d.high * 1.5 + 1 if isinstance(d, FloatDistribution) else 0 for d in space.values()
            ]
            points[0], points[1] = edges, beyond
        expected = estimator.log_pdf(dict(zip(space, points.T, strict=True)))
        got = masses.log_pdf(estimator._mixture_distribution, points, numbers)
        assert got.tobytes() == expected.tobytes()
    continuous = sum(isinstance(d, FloatDistribution) for d in space.values())
    assert masses.computed < 0.5 * 14 * (size + 1) * continuous  # most were kept
