"""The whole machine: run every registered family on one scenario and add up their parts.

Order of evaluation (``objectives.family.Family`` states the rules):

1. each family's ``prepare``, in registration order (``objectives.registry``; a family sees
   the parts of those before it: tiering places the stacks' committed bytes): memory,
   private work per task creation, lock trips, metrics known now;
2. the task-creation loop (``objectives.creation``) holding every family's part, solved
   once: throughputs, latencies, each lock's utilisation and waiting;
3. each family's ``finish``: the metrics that need the creation rate or its lock figures
   (stack faults and overflow risk, percpu CPU time, the PID and percpu lock figures).

Memory adds up: ``kernel_memory_bytes`` is the sum of every family's memory parts (stacks,
percpu, PID allocator, page tables, slab), and ``memory_fraction`` divides it by the
machine's memory. ``cpu_overhead_fraction`` adds every family's CPU share (``cpu_metric``:
stacks, percpu, tiering) and the time spent spinning on the loop's locks. The same policy,
scenario and seed give the same metrics bit for bit: all randomness comes from one
``numpy.random.Generator``.
"""

from __future__ import annotations

import numpy as np

from objectives.creation import METRICS as CREATION_METRICS
from objectives.creation import run_creation_loop
from objectives.family import Part
from objectives.metrics import Metrics, MetricSpec
from objectives.policy import Policy
from objectives.registry import FAMILIES, per_registry
from objectives.scenario import Scenario

METRICS = (
    MetricSpec(
        "kernel_memory_bytes",
        "bytes",
        "minimize",
        "kernel memory of the modelled families together: stacks, percpu, PID "
        "allocator, page tables and slab",
        "machine",
    ),
    MetricSpec(
        "memory_fraction",
        "fraction",
        "minimize",
        "kernel_memory_bytes as a share of the machine's memory",
        "machine",
    ),
    MetricSpec(
        "cpu_overhead_fraction",
        "fraction",
        "minimize",
        "machine CPU time spent in the policies' mechanisms: stack faults and "
        "downgrades, percpu initialisation and summing, spinning on the PID and percpu "
        "locks, kernel-page migration and reclaim (sum of the *_cpu_fraction metrics "
        "and the lock spinning)",
        "machine",
    ),
)
"""The whole-machine metrics."""


def core_metrics() -> tuple[MetricSpec, ...]:
    """The metrics every simulation returns whatever the families: machine, then creation."""
    return METRICS + CREATION_METRICS


@per_registry
def catalogue() -> dict[str, MetricSpec]:
    """The live metric catalogue: core metrics, then each family's in registration order."""
    specs = core_metrics() + tuple(s for f in FAMILIES.values() for s in f.metrics)
    return {spec.name: spec for spec in specs}


def simulate(policy: Policy, scenario: Scenario, seed: int = 0) -> Metrics:
    """Simulate ``policy`` on ``scenario``.

    Args:
        policy: the kernel policy (``objectives.baseline()`` is Linux today).
        scenario: machine shape, workload and kernel costs.
        seed: seed of the random generator (latency sampling).

    Returns:
        Metrics named as in ``objectives.metric_catalogue()``.
    """
    rng = np.random.default_rng(seed)
    families = list(FAMILIES.values())
    parts: dict[str, Part] = {}
    for family in families:
        parts[family.name] = family.prepare(getattr(policy, family.name), scenario, dict(parts))
    values, loop = run_creation_loop(scenario, parts.values(), rng)

    memory = 0.0
    cpu = 0.0
    for family in families:
        part = parts[family.name]
        own = {**part.metrics, **family.finish(part, getattr(policy, family.name), scenario, loop)}
        if own.keys() != {spec.name for spec in family.metrics}:
            expected = sorted(spec.name for spec in family.metrics)
            raise RuntimeError(
                f"family {family.name!r} returned metrics {sorted(own)}, expected {expected}"
            )
        values.update(own)
        for part_bytes in part.memory_bytes.values():
            memory += part_bytes
        if family.cpu_metric is not None:
            cpu += own[family.cpu_metric]
    values["kernel_memory_bytes"] = memory
    values["memory_fraction"] = memory / scenario.machine.memory_bytes
    values["cpu_overhead_fraction"] = cpu + loop.spin_fraction
    return Metrics(values)
