"""Issue 11: a front ranked by the model, not by sampling noise.

The lock model's tail is computed, not sampled (``objectives.engine.contention``), and the
simulator takes no seed: every objective of every built-in job, at today's Linux and at points
spread over the job's space, is a function of the point alone.
"""

from __future__ import annotations

import numpy as np
import pytest

from policysearch.jobs.config import load_job
from policysearch.jobs.space import distributions
from tests.conftest import CONFIGS

JOBS = sorted((CONFIGS / "jobs").glob("*.yaml"))


def _points(job, count: int = 4) -> list[dict]:
    rng = np.random.default_rng(0)
    points = []
    for _ in range(count):
        point = {}
        for name, dist in distributions(job).items():
            if hasattr(dist, "choices"):
                point[name] = dist.choices[int(rng.integers(len(dist.choices)))]
            elif dist.__class__.__name__ == "IntDistribution":
                point[name] = int(rng.integers(dist.low, dist.high + 1))
            else:
                point[name] = float(rng.uniform(dist.low, dist.high))
        points.append({**job.fixed, **point})
    return points


@pytest.mark.parametrize("path", JOBS, ids=[p.stem for p in JOBS])
def test_objectives_are_a_function_of_the_point(path) -> None:
    # the same point gives the same objectives alone, again, and anywhere in a batch
    job = load_job(path)
    today = job.problem.baseline_params()
    points = ([today] if today is not None else []) + _points(job)
    alone = [job.problem.evaluate(point) for point in points]
    assert [job.problem.evaluate(point) for point in points] == alone
    assert job.problem.evaluate_batch(points[::-1])[::-1] == alone
