"""The report card: a policy against today's Linux, answering the maintainer's four questions.

Seed 000 (tglx) asks of every memory-saving patch: (1) the saving as a share of the machine's
memory, (2) whether it packs more threads (more work) onto a machine, (3) whether you can buy
machines with less memory, (4) the performance cost, e.g. "1% runtime overhead can make it a
net loss". For each scenario the card reports, against ``baseline()`` simulated with the same
seed:

* memory: ``saved = baseline kernel_memory_bytes - policy kernel_memory_bytes``, in bytes
  and as a share of the machine's memory (the one meaning of "saved %" everywhere: the
  breakdown's too); a loss reads "memory cost", never a negative saving;
* capacity: on a memory-bound machine every thread's share of memory is ``M / T`` today and
  ``(M - saved) / T`` with the policy, so the same memory holds ``T x saved / (M - saved)``
  more threads, i.e. ``g = saved / (M - saved)`` more work;
* cost: ``dcpu`` = the change of ``cpu_overhead_fraction`` (machine CPU share), the
  change of the task-creation latencies (mean and p99) and of the task-creation throughputs
  (clone and fork, operations per second);
* verdicts: memory-bound (CPU to spare), the work grows by ``(1 + g)(1 - dcpu) - 1``;
  CPU-bound, it changes by ``-dcpu``. A gain is positive, a loss negative. tglx's
  256 GiB / 64k threads example: ``g`` = 0.29% and ``dcpu`` = 1% give a loss either way;
* risks: every family's risk metrics (``Family.risk_metrics``: stack overflows, OOM kills,
  early reclaim), policy against baseline;
* applicability: a task-creation latency or throughput whose kind of task the scenario never
  creates (no thread creations, or no forks, with the baseline and with the policy) is shown
  as n/a, not as a change, on the card and in ``evaluate``'s table
  (``ScenarioCard.not_applicable``): it is what one would take, not what the workload pays;
* hard limits: a metric beyond its hard limit (``objectives.hard_limits()``: a stack-overflow
  risk above its 1e-6/day limit, a PID carve above the PID space...) makes the policy
  ``infeasible``: the card names each limit broken, the value, the bound and by how much
  (``violations``);
* the verdict, decided in this order, and the card names the metric that decided it:
  a hard limit the policy breaks (``infeasible``, whatever the gain), a risk the policy
  raises above its hard limit, if it has one (``net loss``: a risk metric's hard limit, e.g.
  ``stack_overflows_per_day``'s, is the rate the model treats as zero, since its tail model
  is never exactly 0), a lock the policy saturates (utilisation at least
  ``SATURATED``) that the baseline did not (``net loss``), an applicable task-creation latency
  more than ``LATENCY_TOLERANCE`` worse (a ``trade-off``: more work per byte, slower creation),
  else the work gain above (``net gain``, ``net loss`` or ``neutral``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field

from objectives import (
    Metrics,
    Policy,
    Scenario,
    baseline,
    hard_limits,
    metric_catalogue,
    risk_metrics,
    simulate,
)
from policysearch.quantities import change as quantity_change
from policysearch.quantities import column, count, plain, quantity, share

LATENCY_METRICS = (
    "clone_latency_mean_ns",
    "clone_latency_p99_ns",
    "fork_latency_mean_ns",
    "fork_latency_p99_ns",
)
NEUTRAL = 1e-4
"""Work changes smaller than this (0.01%) are reported as neutral."""
SATURATED = 0.9
"""A lock busy at least this share of the time is saturated: its waiters queue (seed 003 calls
pidmap_lock at ~100% busy "the primary bottleneck")."""
LATENCY_TOLERANCE = 0.01
"""An applicable latency more than 1% worse makes a gain a trade-off (seed 000: "1% runtime
overhead can make it a net loss")."""
RATES = {"clone": "clone_throughput_per_s", "fork": "fork_throughput_per_s"}
"""The rate that makes each kind of task-creation latency apply."""
LOCK_SUFFIX = "_lock_utilization"


@dataclass(frozen=True)
class Change:
    """One metric, today and with the policy."""

    baseline: float
    policy: float
    applies: bool = True

    @property
    def relative(self) -> float | None:
        """``policy / baseline - 1``, or ``None`` when the baseline is 0."""
        return self.policy / self.baseline - 1.0 if self.baseline else None


@dataclass(frozen=True)
class Violation:
    """A hard limit a policy breaks: the metric, its value, the limit and the excess.

    Attributes:
        limit: the metric carrying the hard limit (``pid_space_use_fraction``).
        value: the policy's value of it.
        bound: the hard limit (``MetricSpec.hard_max``).
        by: how far beyond: ``value - bound``, in the metric's unit.
    """

    limit: str
    value: float
    bound: float
    by: float

    def describe(self) -> str:
        """``pid_space_use_fraction 405% breaks its hard limit 100% (by 305 percentage
        points)``; other units give the excess in the metric's unit."""
        unit = _unit(self.limit)
        value, bound = (text.strip() for text in column([self.value, self.bound], unit))
        if unit == "fraction":
            by = _points(self.by).lstrip("+")
        else:
            by = column([self.by], unit)[0].strip()
        return f"{self.limit} {value} breaks its hard limit {bound} (by {by})"


def violations(metrics: Mapping[str, float]) -> tuple[Violation, ...]:
    """The hard limits (``objectives.hard_limits()``) that ``metrics`` break, in catalogue order."""
    return tuple(
        Violation(name, float(metrics[name]), bound, float(metrics[name]) - bound)
        for name, bound in hard_limits().items()
        if name in metrics and metrics[name] > bound
    )


def feasibility(card: ScenarioCard) -> dict:
    """``{"feasible": bool, "violations": [{"limit", "value", "bound", "by"}, ...]}``."""
    return {"feasible": card.feasible, "violations": [asdict(v) for v in card.violations]}


def annotate_table(table: str, card: ScenarioCard) -> str:
    """A metric table with each row of a broken hard limit flagged, and the verdict after it."""
    broken = {v.limit: v for v in card.violations}
    if not broken:
        return table
    lines = []
    for line in table.splitlines():
        name = line.split(" ", 1)[0]
        if name in broken:
            bound = column([broken[name].bound], _unit(name))[0].strip()
            line += f"  INFEASIBLE (hard limit {bound})"
        lines.append(line)
    lines.append("infeasible: " + "; ".join(v.describe() for v in card.violations))
    return "\n".join(lines)


@dataclass(frozen=True)
class ScenarioCard:
    """The answers for one scenario (see the module doc for the definitions)."""

    scenario: str
    memory_bytes: int
    threads: int
    saved_bytes: float
    saved_fraction: float
    extra_threads: float
    extra_work_fraction: float
    cpu_overhead_change: float
    latency: dict[str, Change]
    memory_bound_gain: float
    cpu_bound_gain: float
    risks: dict[str, Change]
    locks: dict[str, Change] = field(default_factory=dict)
    violations: tuple[Violation, ...] = ()
    throughput: dict[str, Change] = field(default_factory=dict)

    def not_applicable(self) -> dict[str, str]:
        """Metric -> why it does not apply here (``the scenario has no forks``): a latency or a
        throughput of a kind of task the scenario never creates, with either policy."""
        out = {}
        for group in (self.latency, self.throughput):
            for name, change in group.items():
                if not change.applies:
                    kind = "thread creations" if name.startswith("clone") else "forks"
                    out[name] = f"the scenario has no {kind}"
        return out

    @property
    def feasible(self) -> bool:
        """Whether the policy keeps every hard limit on this scenario."""
        return not self.violations

    @property
    def memory_bound_verdict(self) -> str:
        """The memory-bound verdict, latency, locks and risks included (module doc)."""
        return judge(self, self.memory_bound_gain)[0]

    @property
    def cpu_bound_verdict(self) -> str:
        """The CPU-bound verdict, latency, locks and risks included (module doc)."""
        return judge(self, self.cpu_bound_gain)[0]

    @property
    def decided_by(self) -> str:
        """The metric that decided the memory-bound verdict."""
        return judge(self, self.memory_bound_gain)[1]

    def as_dict(self) -> dict:
        """Plain data for JSON (each change with its relative value, n/a ones as null)."""
        data = asdict(self)
        for group in ("latency", "risks", "locks", "throughput"):
            for name, change in getattr(self, group).items():
                data[group][name]["relative"] = change.relative if change.applies else None
        data["feasible"] = self.feasible
        data["violations"] = [asdict(v) for v in self.violations]
        data["memory_bound_verdict"] = self.memory_bound_verdict
        data["cpu_bound_verdict"] = self.cpu_bound_verdict
        data["decided_by"] = self.decided_by
        data["cpu_bound_decided_by"] = judge(self, self.cpu_bound_gain)[1]
        return data


def report_card(policy: Policy, scenarios: Sequence[Scenario]) -> list[ScenarioCard]:
    """The card of ``policy`` on each scenario, against ``baseline()``."""
    return [
        card_from_metrics(scenario, simulate(policy, scenario), simulate(baseline(), scenario))
        for scenario in scenarios
    ]


def card_from_metrics(scenario: Scenario, policy: Metrics, today: Metrics) -> ScenarioCard:
    """The card from already simulated metrics of the policy and of the baseline."""
    memory = scenario.machine.memory_bytes
    saved = today["kernel_memory_bytes"] - policy["kernel_memory_bytes"]
    extra_work = saved / (memory - saved) if memory > saved else float("inf")
    threads = scenario.workload.resident_tasks
    dcpu = policy["cpu_overhead_fraction"] - today["cpu_overhead_fraction"]
    return ScenarioCard(
        scenario=scenario.name,
        memory_bytes=memory,
        threads=threads,
        saved_bytes=saved,
        saved_fraction=saved / memory,
        extra_threads=threads * extra_work,
        extra_work_fraction=extra_work,
        cpu_overhead_change=dcpu,
        latency={
            m: Change(today[m], policy[m], _applies(m, policy, today)) for m in LATENCY_METRICS
        },
        memory_bound_gain=(1.0 + extra_work) * (1.0 - dcpu) - 1.0,
        cpu_bound_gain=-dcpu,
        risks={m: Change(today[m], policy[m]) for m in risk_metrics() if m in today},
        locks={
            m: Change(today[m], policy[m]) for m in today if m.endswith(LOCK_SUFFIX) and m in policy
        },
        violations=violations(policy.as_dict()),
        throughput={
            rate: Change(today[rate], policy[rate], policy[rate] > 0 or today[rate] > 0)
            for rate in RATES.values()
            if rate in today and rate in policy
        },
    )


def _applies(metric: str, policy: Metrics, today: Metrics) -> bool:
    """A task-creation latency applies when that kind of task is created at all."""
    rate = RATES[metric.split("_", 1)[0]]
    return policy[rate] > 0 or today[rate] > 0


def verdict(gain: float) -> str:
    """``net gain``, ``net loss`` or ``neutral`` (within 0.01%), from the work gain alone."""
    if abs(gain) < NEUTRAL:
        return "neutral"
    return "net gain" if gain > 0 else "net loss"


def judge(card: ScenarioCard, gain: float) -> tuple[str, str]:
    """The verdict on ``gain`` with risks, lock saturation and latency, and what decided it.

    Returns:
        ``(verdict, deciding metric)``; the order is the module doc's.
    """
    if card.violations:
        return "infeasible", card.violations[0].limit
    limits = hard_limits()
    for name, change in card.risks.items():
        if change.policy > change.baseline and change.policy > limits.get(name, -float("inf")):
            return "net loss", name
    for name, change in card.locks.items():
        if change.policy >= SATURATED > change.baseline:
            return "net loss", name
    worst = max(
        (
            (change.relative, name)
            for name, change in card.latency.items()
            if change.applies and change.relative is not None
        ),
        default=None,
    )
    if worst is not None and worst[0] > LATENCY_TOLERANCE and gain >= NEUTRAL:
        return "trade-off", worst[1]
    return verdict(gain), "work gain"


def render_cards(cards: Sequence[ScenarioCard], odds: Sequence[str | None] | None = None) -> str:
    """The cards as text, one block per scenario.

    Args:
        cards: the cards.
        odds: per card, a line on how often each verdict holds over draws of the assumed
            constants (``evaluate --uncertainty``), shown under the verdict; ``None``: none.
    """
    lines = odds if odds is not None else [None] * len(cards)
    return "\n\n".join(_render(card, line) for card, line in zip(cards, lines, strict=True))


def _render(card: ScenarioCard, odds: str | None = None) -> str:
    threads = card.extra_threads
    more = "more" if threads >= 0 or count(threads) == "0" else "fewer"
    noun = "thread" if count(abs(threads)) == "1" else "threads"
    memory = "memory saved" if card.saved_bytes >= 0 else "memory cost "
    lines = [
        f"report card on {card.scenario} (against today's Linux)",
        f"  1. {memory}      {_bytes(abs(card.saved_bytes))}, {share(abs(card.saved_fraction))} "
        f"of the machine's {_bytes(card.memory_bytes)}",
        f"  2. more work         {count(abs(threads))} {more} {noun} in the same memory "
        f"({share(card.extra_work_fraction, signed=True)} work when memory-bound)",
        f"  3. smaller machines  the same work needs "
        f"{_bytes(card.memory_bytes - card.saved_bytes)} "
        f"({share(-card.saved_fraction, signed=True)}); "
        "it helps only if that crosses a memory size you can buy",
        f"  4. cost              CPU overhead {_points(card.cpu_overhead_change)} of machine time",
    ]
    why = card.not_applicable()
    for name, change in card.latency.items():
        if name in why:
            lines.append(f"     {name:22s} n/a ({why[name]})")
            continue
        lines.append(_change_line(name, change, _unit(name)))
    for name, change in card.throughput.items():
        if name in why:
            lines.append(f"     {name:22s} n/a ({why[name]})")
        else:
            lines.append(_change_line(name, change, _unit(name)))
    for name, change in card.locks.items():
        flag = "  saturated" if change.policy >= SATURATED else ""
        lines.append(_change_line(name, change, "fraction", relative=False) + flag)
    memory_verdict, memory_why = judge(card, card.memory_bound_gain)
    cpu_verdict, cpu_why = judge(card, card.cpu_bound_gain)
    for violation in card.violations:
        lines.append(f"  hard limit           infeasible: {violation.describe()}")
    lines += [
        f"  verdict              memory-bound: {memory_verdict} "
        f"({share(card.memory_bound_gain, signed=True)} work; decided by {memory_why}); "
        f"CPU-bound: {cpu_verdict} ({share(card.cpu_bound_gain, signed=True)} work; "
        f"decided by {cpu_why})",
    ]
    if odds is not None:
        lines.append(f"  verdict odds         {odds}")
    lines.append("  risks")
    for name, change in card.risks.items():
        lines.append(_change_line(name, change, _unit(name), relative=False))
    return "\n".join(lines)


def _unit(metric: str) -> str:
    spec = metric_catalogue().get(metric)
    return spec.unit if spec is not None else ""


def _change_line(name: str, change: Change, unit: str, relative: bool = True) -> str:
    """``name  today -> policy  change``, both values on one scale (``quantities.column``)."""
    today, mine = column([change.baseline, change.policy], unit)
    text = f"     {name:22s} {today:>12s} -> {mine:>12s}"
    if relative and change.relative is not None:
        text += f"  {quantity_change(change.policy, change.baseline)}"
    return text


def _bytes(value: float) -> str:
    return quantity(value, "bytes")


def _points(fraction: float) -> str:
    text = plain(100 * fraction, 3)
    if text == "0":
        return "0 percentage points"
    return f"{'+' if fraction > 0 else ''}{text} percentage points"
