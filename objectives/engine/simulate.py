"""``simulate()``: run every registered family on one scenario and add up their parts.

Order of evaluation (``objectives.core.family.Family`` states the rules):

1. each family's ``prepare``, in registration order (``objectives.core.registry``; a family sees
   the parts of those before it: tiering places the stacks' committed bytes): memory,
   private work per task creation, lock trips, metrics known now;
2. the task-creation loop (``objectives.engine.creation``) holding every family's part, solved
   once: throughputs, latencies, each lock's utilisation and waiting;
3. each family's ``finish``: the metrics that need the creation rate or its lock figures
   (stack faults and overflow risk, percpu CPU time, the PID and percpu lock figures).

Memory adds up: ``kernel_memory_bytes`` is the sum of every family's memory parts (stacks,
percpu, PID allocator, page tables, slab), and ``memory_fraction`` divides it by the
machine's memory. ``cpu_overhead_fraction`` adds every family's CPU share (``cpu_metric``:
stacks, percpu, tiering) and the time spent spinning on the loop's locks. The models draw no
random numbers: the same policy and scenario give the same metrics bit for bit.
``simulate_batch`` evaluates many policies on one scenario, each exactly as ``simulate``.

This module's metrics and the creation loop's are the registry's core metrics
(``set_core_metrics``): every simulation returns them, and no family may take their names.
"""

from __future__ import annotations

from collections.abc import Sequence

from objectives.core.family import Family, FamilyPart, LoopFigures
from objectives.core.metric_spec import MetricSpec
from objectives.core.metrics import Metrics
from objectives.core.policy import Policy
from objectives.core.provenance import numerical
from objectives.core.registry import FAMILIES, set_core_metrics
from objectives.core.scenario import Scenario
from objectives.engine.creation import METRICS as CREATION_METRICS
from objectives.engine.creation import run_creation_loops_on
from objectives.engine.part_cache import PartCache

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


set_core_metrics(METRICS + CREATION_METRICS)

GRID_CHUNK = numerical(
    "simulate.GRID_CHUNK",
    256,
    why="creation loops solved per solve_batch call by simulate_grid; it bounds the tail "
    "inversion's arrays and changes no result (each loop is solved bit for bit as alone)",
    unit="loops",
)
"""Creation loops solved per ``solve_batch`` call by ``simulate_grid``."""


def simulate(policy: Policy, scenario: Scenario) -> Metrics:
    """Simulate ``policy`` on ``scenario``.

    Args:
        policy: the kernel policy (``objectives.baseline()`` is Linux today).
        scenario: machine shape, workload and kernel costs.

    Returns:
        Metrics named as in ``objectives.metric_catalogue()``.
    """
    return simulate_batch([policy], scenario)[0]


def simulate_batch(policies: Sequence[Policy], scenario: Scenario) -> list[Metrics]:
    """``[simulate(policy, scenario) for policy in policies]``, bit for bit, faster.

    ``simulate`` is this function on a batch of one, and a policy's metrics never depend on
    the rest of its batch, so the two agree exactly (tested over every built-in scenario).
    What a batch saves:

    * a family's ``prepare`` runs once per distinct (its policy, the policies of the families
      before it) in the batch: a search that varies PID knobs prepares the stacks, percpu and
      tiering parts once (``prepare`` is deterministic and its ``FamilyPart`` is read-only);
    * the task-creation loops of the whole batch are solved together
      (``objectives.engine.creation.run_creation_loops``: their latency percentiles are inverted as
      rows of 2-D arrays).

    Args:
        policies: the kernel policies.
        scenario: machine shape, workload and kernel costs.

    Returns:
        One ``Metrics`` per policy, in order.
    """
    return simulate_grid(policies, [scenario])[0]


def simulate_grid(
    policies: Sequence[Policy], scenarios: Sequence[Scenario], parts: PartCache | None = None
) -> list[list[Metrics]]:
    """``[simulate_batch(policies, s) for s in scenarios]``, bit for bit, faster.

    The scenarios differ in their constants (an uncertainty plan's draws) or in anything
    else: each scenario's families are prepared as in ``simulate_batch``, and the creation
    loops of every (scenario, policy) pair are solved together, at most ``GRID_CHUNK`` per
    ``solve_batch`` (a loop's result never depends on the others in its batch).

    Args:
        policies: the kernel policies.
        scenarios: the scenarios, each simulated with every policy.
        parts: prepared family parts to take and keep across calls (``PartCache``: the same
            numbers; a caller that evaluates many batches under the same scenarios keeps one).

    Returns:
        One list per scenario, one ``Metrics`` per policy in it, in order.
    """
    families = list(FAMILIES.values())
    expected = [{spec.name for spec in family.metrics} for family in families]
    prepared = [
        (s, part) for s in scenarios for part in _prepare_batch(families, policies, s, parts)
    ]
    # Loops of alike work variability need alike numbers of frequencies in the tail
    # inversion, which pads each group to its widest row: solve them side by side.
    order = sorted(range(len(prepared)), key=lambda i: prepared[i][0].workload.work_cv)
    loops: list[tuple[dict[str, float], LoopFigures]] = [None] * len(prepared)  # type: ignore[list-item]
    for start in range(0, len(order), GRID_CHUNK):
        chunk = order[start : start + GRID_CHUNK]
        solved = run_creation_loops_on([(prepared[i][0], prepared[i][1].values()) for i in chunk])
        for i, result in zip(chunk, solved, strict=True):
            loops[i] = result
    width = len(policies)
    return [
        [
            _assemble(families, expected, policy, *prepared[i * width + j], *loops[i * width + j])
            for j, policy in enumerate(policies)
        ]
        for i in range(len(scenarios))
    ]


def _prepare_batch(
    families: list[Family],
    policies: Sequence[Policy],
    scenario: Scenario,
    cache: PartCache | None = None,
) -> list[dict[str, FamilyPart]]:
    """Each policy's parts, each family's ``prepare`` run once per distinct input in the batch
    (and, with a ``cache``, once per distinct input while the cache keeps it).

    A ``FamilyPart`` depends on the family's policy and on the parts it reads, themselves functions
    of their families' policies and reads: the memo key is the family's policy and the
    numbers of the memo entries it reads (equal numbers, equal chains of policies). The
    cache's key (``PartCache``) is the scenario's token, the family's policy and the cache
    keys of the parts it reads.
    """
    reads: list[list[str]] = []
    for index, family in enumerate(families):
        before = [f.name for f in families[:index]]
        reads.append(before if family.reads is None else list(family.reads))
    token = None if cache is None else cache.scenario_token(scenario)
    memo: dict[tuple, tuple[int, FamilyPart, tuple | None]] = {}
    entries = 0
    out = []
    for policy in policies:
        parts: dict[str, FamilyPart] = {}
        numbers: dict[str, int] = {}
        kept: dict[str, tuple | None] = {}  # each family's cache key (None: not cached)
        for family, names in zip(families, reads, strict=True):
            own = getattr(policy, family.name)
            key: tuple | None = (family.name, own, *(numbers[name] for name in names))
            try:
                entry = memo.get(key)
            except TypeError:  # a run-time family with an unhashable policy: no memo
                key, entry = None, None
            if entry is None:
                reads_kept = [kept[name] for name in names]
                wide = None
                if key is not None and token is not None and None not in reads_kept:
                    wide = (token, family.name, own, *reads_kept)
                part = None if wide is None else cache.get(wide)  # type: ignore[union-attr]
                if part is None:
                    part = family.prepare(own, scenario, {name: parts[name] for name in names})
                    if wide is not None:
                        cache.put(wide, part)  # type: ignore[union-attr]
                entry, entries = (entries, part, wide), entries + 1
                if key is not None:
                    memo[key] = entry
            numbers[family.name], parts[family.name], kept[family.name] = entry
        out.append(parts)
    return out


def _assemble(
    families: list[Family],
    expected: list[set[str]],
    policy: Policy,
    scenario: Scenario,
    parts: dict[str, FamilyPart],
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
