"""The whole machine: run every modelled family on one scenario and add up the results.

``kernel_memory_bytes`` is the sum of the families' memory; ``memory_fraction`` divides it by
the machine's memory. The same policy, scenario and seed give the same metrics bit for bit:
all randomness comes from one ``numpy.random.Generator`` seeded with ``seed``.
"""

from __future__ import annotations

import numpy as np

from objectives.metrics import Metrics
from objectives.pid import simulate_pid
from objectives.policy import Policy
from objectives.scenario import Scenario


def simulate(policy: Policy, scenario: Scenario, seed: int = 0) -> Metrics:
    """Simulate ``policy`` on ``scenario``.

    Args:
        policy: the kernel policy (``objectives.baseline()`` is Linux today).
        scenario: machine shape, workload and kernel costs.
        seed: seed of the random generator (latency sampling).

    Returns:
        Metrics named as in ``objectives.metrics.CATALOGUE``.
    """
    rng = np.random.default_rng(seed)
    values = simulate_pid(policy.pid, scenario, rng)
    memory = values["pid_bytes"]
    values["kernel_memory_bytes"] = memory
    values["memory_fraction"] = memory / scenario.machine.memory_bytes
    return Metrics(values)
