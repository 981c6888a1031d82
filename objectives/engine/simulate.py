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
scenario and seed give the same metrics bit for bit; the models are deterministic (the seed is
kept in the signature for a model that would draw from a ``numpy.random.Generator``).
``simulate_batch`` evaluates many policies on one scenario, each exactly as ``simulate``.
"""

from __future__ import annotations

from collections.abc import Sequence

from objectives.creation import METRICS as CREATION_METRICS
from objectives.creation import run_creation_loops
from objectives.family import Family, LoopFigures, Part
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
        seed: seed of the random generator (the models are deterministic today: the metrics
            do not depend on it).

    Returns:
        Metrics named as in ``objectives.metric_catalogue()``.
    """
    return simulate_batch([policy], scenario, seed)[0]


def simulate_batch(policies: Sequence[Policy], scenario: Scenario, seed: int = 0) -> list[Metrics]:
    """``[simulate(policy, scenario, seed) for policy in policies]``, bit for bit, faster.

    ``simulate`` is this function on a batch of one, and a policy's metrics never depend on
    the rest of its batch, so the two agree exactly (tested over every built-in scenario).
    What a batch saves:

    * a family's ``prepare`` runs once per distinct (its policy, the policies of the families
      before it) in the batch: a search that varies PID knobs prepares the stacks, percpu and
      tiering parts once (``prepare`` is deterministic and its ``Part`` is read-only);
    * the task-creation loops of the whole batch are solved together
      (``objectives.creation.run_creation_loops``: their latency percentiles are inverted as
      rows of 2-D arrays).

    Args:
        policies: the kernel policies.
        scenario: machine shape, workload and kernel costs.
        seed: seed of the random generator, the same for every policy (common random numbers).

    Returns:
        One ``Metrics`` per policy, in order.
    """
    del seed  # every model is deterministic: nothing draws from a generator
    families = list(FAMILIES.values())
    all_parts = _prepare_batch(families, policies, scenario)
    loops = run_creation_loops(scenario, [parts.values() for parts in all_parts])
    expected = [{spec.name for spec in family.metrics} for family in families]
    return [
        _assemble(families, expected, policy, scenario, parts, values, loop)
        for policy, parts, (values, loop) in zip(policies, all_parts, loops, strict=True)
    ]


def _prepare_batch(
    families: list[Family], policies: Sequence[Policy], scenario: Scenario
) -> list[dict[str, Part]]:
    """Each policy's parts, each family's ``prepare`` run once per distinct input in the batch.

    A ``Part`` depends on the family's policy and on the parts it reads, themselves functions
    of their families' policies and reads: the memo key is the family's policy and the
    numbers of the memo entries it reads (equal numbers, equal chains of policies).
    """
    reads: list[list[str]] = []
    for index, family in enumerate(families):
        before = [f.name for f in families[:index]]
        reads.append(before if family.reads is None else list(family.reads))
    memo: dict[tuple, tuple[int, Part]] = {}
    entries = 0
    out = []
    for policy in policies:
        parts: dict[str, Part] = {}
        numbers: dict[str, int] = {}
        for family, names in zip(families, reads, strict=True):
            own = getattr(policy, family.name)
            key: tuple | None = (family.name, own, *(numbers[name] for name in names))
            try:
                entry = memo.get(key)
            except TypeError:  # a run-time family with an unhashable policy: no memo
                key, entry = None, None
            if entry is None:
                part = family.prepare(own, scenario, {name: parts[name] for name in names})
                entry, entries = (entries, part), entries + 1
                if key is not None:
                    memo[key] = entry
            numbers[family.name], parts[family.name] = entry
        out.append(parts)
    return out


def _assemble(
    families: list[Family],
    expected: list[set[str]],
    policy: Policy,
    scenario: Scenario,
    parts: dict[str, Part],
    values: dict[str, float],
    loop: LoopFigures,
) -> Metrics:
    """One policy's metrics: the loop's, then each family's ``finish``, then the machine's.

    ``expected``: each family's metric names.
    """
    memory = 0.0
    cpu = 0.0
    for family, names in zip(families, expected, strict=True):
        part = parts[family.name]
        own = {**part.metrics, **family.finish(part, getattr(policy, family.name), scenario, loop)}
        if own.keys() != names:
            raise RuntimeError(
                f"family {family.name!r} returned metrics {sorted(own)}, expected {sorted(names)}"
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
