"""Per-scenario breakdown of one policy: what it saves and what it costs on each scenario.

For a chosen trial of a study, against today's Linux on the same problem and seed (the study
view's ``baseline_metrics``), per scenario of the problem (each scenario of a mix,
``objectives.problems.mix``, or the one scenario of a plain job):

* memory: ``saved = today kernel_memory_bytes - policy kernel_memory_bytes``, as a share of
  the scenario machine's memory (the report card's meaning of "saved %"), worded ``saves`` or
  ``costs``;
* the task-creation latencies (mean and p99 of clone and fork): the relative change, or n/a
  when the scenario creates no task of that kind (as the report card decides it);
* ``cpu_overhead_fraction``: the change in percentage points of machine time.

Nothing is simulated again: a mix stores every scenario's metrics with each trial
(``M@SCENARIO``), so the breakdown reads them back. The one-line summary reads like "saves
2.1 GiB on mixed-fleet-server, costs +3.0% clone p99 on fork-exec-storm".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from optuna.trial import FrozenTrial

from objectives import Problem
from policysearch.analysis.report_card import LATENCY_METRICS, RATES, Change
from policysearch.analysis.view import StudyView
from policysearch.errors import BadInput
from policysearch.quantities import change, quantity, share
from policysearch.run import records

MEMORY = "kernel_memory_bytes"
CPU = "cpu_overhead_fraction"
COST_TOLERANCE = 0.001
"""Latency changes within 0.1% are neither a cost nor a gain in the summary."""


@dataclass(frozen=True)
class ScenarioBreakdown:
    """One scenario: the policy against today's Linux (module doc)."""

    scenario: str
    weight: float | None
    memory: Change
    latency: dict[str, Change]
    cpu_overhead: Change
    machine_bytes: float | None = None

    @property
    def saved_share(self) -> float | None:
        """The memory saved as a share of the machine's memory (the report card's meaning),
        or ``None`` when the machine is unknown."""
        return self.saved_bytes / self.machine_bytes if self.machine_bytes else None

    @property
    def saved_bytes(self) -> float:
        """Kernel memory saved (negative: the policy uses more)."""
        return self.memory.baseline - self.memory.policy

    def phrases(self) -> list[str]:
        """What the policy does here, in words: the memory, then each latency it worsens."""
        saved = self.saved_bytes
        if saved > 0:
            words = [f"saves {quantity(saved, 'bytes')} on {self.scenario}"]
        elif saved < 0:
            words = [f"costs {quantity(-saved, 'bytes')} more memory on {self.scenario}"]
        else:
            words = [f"saves no memory on {self.scenario}"]
        for name, delta in self.latency.items():
            relative = delta.relative if delta.applies else None
            if relative is not None and relative > COST_TOLERANCE:
                words.append(
                    f"costs {change(delta.policy, delta.baseline)} {_short(name)} "
                    f"on {self.scenario}"
                )
        return words

    def as_dict(self) -> dict:
        """Plain data for JSON (relative changes; n/a latencies as null)."""
        return {
            "scenario": self.scenario,
            "weight": self.weight,
            "kernel_memory_bytes": {
                "baseline": self.memory.baseline,
                "policy": self.memory.policy,
                "saved": self.saved_bytes,
                "saved_share_of_machine": self.saved_share,
            },
            "latency": {
                name: {
                    "baseline": c.baseline,
                    "policy": c.policy,
                    "relative": c.relative if c.applies else None,
                }
                for name, c in self.latency.items()
            },
            "cpu_overhead_change": self.cpu_overhead.policy - self.cpu_overhead.baseline,
        }


def per_scenario(problem: Problem, metrics: Mapping[str, float]) -> dict[str, dict[str, float]]:
    """Scenario name -> its catalogue metrics, from the problem's metrics of one point.

    Raises:
        BadInput: the problem simulates no kernel scenario (an analytic benchmark).
    """
    split = getattr(problem, "by_scenario", None)
    if split is not None:
        return split(metrics)
    scenarios = problem.scenarios()
    if len(scenarios) != 1:
        raise BadInput(
            problem.name, "", "is not a kernel scenario problem: it has no per-scenario breakdown"
        )
    return {scenarios[0].name: dict(metrics)}


def breakdown(view: StudyView, trial: FrozenTrial) -> list[ScenarioBreakdown]:
    """The breakdown of ``trial`` of the study ``view`` shows, one entry per scenario.

    Raises:
        BadInput: the study's problem has no kernel scenario, hence no baseline.
    """
    problem = view.info.problem
    today_all = view.baseline_metrics
    if today_all is None or not problem.scenarios():
        raise BadInput(
            view.info.name,
            "",
            f"is a study of {problem.name}, not of kernel scenarios: it has no breakdown",
        )
    policy = per_scenario(problem, records.metrics(trial))
    today = per_scenario(problem, today_all)
    weight = getattr(problem, "weight", None)
    machines = {s.name: float(s.machine.memory_bytes) for s in problem.scenarios()}
    return [
        _scenario(name, policy[name], today[name], weight(name) if weight else None, machines)
        for name in today
    ]


def _scenario(
    name: str,
    policy: Mapping[str, float],
    today: Mapping[str, float],
    weight: float | None,
    machines: Mapping[str, float],
) -> ScenarioBreakdown:
    latency = {
        m: Change(today[m], policy[m], _applies(m, policy, today))
        for m in LATENCY_METRICS
        if m in today and m in policy
    }
    return ScenarioBreakdown(
        scenario=name,
        weight=weight,
        memory=Change(today[MEMORY], policy[MEMORY]),
        latency=latency,
        cpu_overhead=Change(today[CPU], policy[CPU]),
        machine_bytes=machines.get(name),
    )


def _applies(metric: str, policy: Mapping[str, float], today: Mapping[str, float]) -> bool:
    rate = RATES[metric.split("_", 1)[0]]
    return policy.get(rate, 0.0) > 0 or today.get(rate, 0.0) > 0


def _short(metric: str) -> str:
    """``clone_latency_p99_ns`` -> ``clone p99``."""
    kind, _, rest = metric.partition("_latency_")
    return f"{kind} {rest.rsplit('_', 1)[0]}"


def summary(rows: list[ScenarioBreakdown]) -> str:
    """One sentence over every scenario: "saves 2.1 GiB on A, costs +3.0% clone p99 on B"."""
    phrases = [phrase for row in rows for phrase in row.phrases()]
    latency_cost = any(phrase.startswith("costs +") for phrase in phrases)
    return ", ".join(phrases) + ("" if latency_cost else "; no task-creation latency worse")


HEADER = (
    "scenario",
    "weight",
    "kernel memory today",
    "with the policy",
    "memory vs today (share of the machine)",
    "clone p99",
    "fork p99",
    "clone mean",
    "fork mean",
    "CPU overhead",
)


def table_rows(rows: list[ScenarioBreakdown]) -> list[tuple[str, ...]]:
    """The breakdown as text cells under ``HEADER`` (for the terminal and the HTML report)."""
    cells = []
    for row in rows:
        latency = [
            _latency_cell(row.latency.get(m))
            for m in (
                "clone_latency_p99_ns",
                "fork_latency_p99_ns",
                "clone_latency_mean_ns",
                "fork_latency_mean_ns",
            )
        ]
        dcpu = 100 * (row.cpu_overhead.policy - row.cpu_overhead.baseline)
        cells.append(
            (
                row.scenario,
                "-" if row.weight is None else share(row.weight),
                quantity(row.memory.baseline, "bytes"),
                quantity(row.memory.policy, "bytes"),
                _saved_cell(row),
                *latency,
                f"{dcpu:+.3f} pp" if abs(dcpu) >= 0.0005 else "0 pp",
            )
        )
    return cells


def _saved_cell(row: ScenarioBreakdown) -> str:
    """``saves 258 KiB (0.000096%)`` or ``costs 867 KiB (0.00034%)``: the share is of the
    machine's memory, as on the report card."""
    saved = row.saved_bytes
    if saved == 0:
        return "same"
    part = "" if row.saved_share is None else f" ({share(abs(row.saved_share))})"
    return f"{'saves' if saved > 0 else 'costs'} {quantity(abs(saved), 'bytes')}{part}"


def _latency_cell(delta: Change | None) -> str:
    if delta is None or not delta.applies:
        return "n/a"
    return change(delta.policy, delta.baseline)


def render_text(rows: list[ScenarioBreakdown], title: str) -> str:
    """The breakdown as an aligned text table, a title line above and the summary below."""
    table = [HEADER, *table_rows(rows)]
    widths = [max(len(r[i]) for r in table) for i in range(len(HEADER))]
    lines = [title, ""]
    for r in table:
        lines.append("  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip())
    lines += ["", summary(rows) or "no change on any scenario"]
    return "\n".join(lines)
