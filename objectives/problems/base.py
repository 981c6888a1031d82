"""The one interface the search service sees: a ``Problem`` to search.

A problem has knobs (what a search may set), metrics (what an evaluation returns, with units
and directions), hard limits (risk metrics no point may exceed) and an evaluation. The service
never asks what kind of problem it holds; it only calls these methods. Two kinds exist:

* ``ScenarioProblem`` (this module): the kernel simulator on one scenario; a point is a set of
  knobs laid over today's Linux (``baseline()``), evaluated with ``simulate``.
* ``objectives.benchmarks.Benchmark``: an analytic problem with a known front (ZDT, DTLZ).

Rules every problem keeps (the model is pymoo's ``Problem``: the public method validates, the
private one computes):

* ``evaluate(params, seed)`` checks ``params`` against ``knobs()`` (``InputError`` on an
  unknown knob or a bad value) and returns ``{metric: float}`` with every metric of
  ``metrics()``; the same params and seed give the same numbers bit for bit.
* ``evaluate_batch(batch, seed)`` equals ``[evaluate(p, seed) for p in batch]``; subclasses
  override ``_evaluate_batch`` where they can vectorise.
* ``to_mapping()`` is plain data that ``problem_from_mapping`` turns back into an equal problem
  (a study stores it, so its front can be read without the job file).
* ``baseline_params()`` is today's Linux as knobs, or ``None`` when the problem has no baseline;
  ``scenarios()`` are the kernel scenarios it simulates (none for an analytic problem).

A new kind registers its job key in ``PROBLEM_KINDS``.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from objectives.errors import InputError, one_of
from objectives.machine import simulate, simulate_batch
from objectives.metrics import MetricSpec, hard_limits, metric_catalogue
from objectives.policy import Knob, Policy, baseline, knob_catalogue
from objectives.scenario import Scenario, load_scenario, scenario_from_mapping


def check_seed(seed: object) -> int:
    """A simulation seed: an integer in [0, 2^32) (``numpy.random.default_rng``'s range).

    Raises:
        InputError: anything else (the model no longer draws random numbers, so a bad seed
            would otherwise pass unnoticed and be stored with the trial).
    """
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**32:
        raise InputError("<seed>", "", f"found {seed!r}, expected a non-negative integer seed")
    return seed


class Problem(abc.ABC):
    """Something to search: knobs in, metrics out. See the module docstring for the rules."""

    kind: str = ""
    """The job key that names a problem of this kind (``scenario``, ``benchmark``)."""

    name: str
    """Short name (a built-in scenario's or benchmark's name)."""

    @abc.abstractmethod
    def knobs(self) -> dict[str, Knob]:
        """Every knob a search may set, by name."""

    @abc.abstractmethod
    def metrics(self) -> dict[str, MetricSpec]:
        """Every metric an evaluation returns, by name."""

    def hard_limits(self) -> dict[str, float]:
        """Metric -> the largest value any acceptable point may have (every search applies it)."""
        return {}

    def describe(self) -> dict[str, str]:
        """What the problem is, as label -> text lines for reports."""
        return {"problem": self.name}

    def default_space(self) -> dict[str, Any] | None:
        """The space a job searches when it names none (``None``: a job must name one)."""
        return None

    def evaluate(self, params: Mapping[str, Any], seed: int = 0) -> dict[str, float]:
        """Check ``params`` against ``knobs()`` and evaluate them.

        Raises:
            InputError: an unknown knob or a value outside its knob's domain.
        """
        return self._evaluate(self.check(params), check_seed(seed))

    def evaluate_batch(
        self, batch: Sequence[Mapping[str, Any]], seed: int = 0
    ) -> list[dict[str, float]]:
        """``evaluate`` for every point of ``batch`` (one seed for all: common random numbers)."""
        return self._evaluate_batch([self.check(params) for params in batch], check_seed(seed))

    def check(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """``params`` validated against ``knobs()``, converted to their knobs' types."""
        from objectives.fields import convert

        knobs = self.knobs()
        checked: dict[str, Any] = {}
        for name, value in params.items():
            knob = knobs.get(name)
            if knob is None:
                raise InputError(
                    f"<{self.name}>",
                    name,
                    "unknown knob; " + one_of(name, knobs, listed_by="policysearch knobs"),
                )
            checked[name] = convert(knob.type, value, knob.meta, source=f"<{self.name}>", key=name)
        return checked

    @abc.abstractmethod
    def _evaluate(self, params: dict[str, Any], seed: int) -> dict[str, float]:
        """Evaluate checked ``params``."""

    def _evaluate_batch(self, batch: list[dict[str, Any]], seed: int) -> list[dict[str, float]]:
        return [self._evaluate(params, seed) for params in batch]

    def baseline_params(self) -> dict[str, Any] | None:
        """Today's Linux as knobs, or ``None`` when the problem has no baseline."""
        return None

    def policy(self, params: Mapping[str, Any]) -> Policy | None:
        """The kernel policy ``params`` stand for (``None`` when they stand for none)."""
        return None

    def scenarios(self) -> tuple[Scenario, ...]:
        """The kernel scenarios the problem simulates (none for an analytic problem)."""
        return ()

    def true_front(self, points: int = 1000) -> np.ndarray | None:
        """About ``points`` points of the known Pareto front, or ``None`` when unknown."""
        return None

    @abc.abstractmethod
    def to_mapping(self) -> dict[str, Any]:
        """Plain data that ``problem_from_mapping`` turns back into an equal problem."""


@dataclass(frozen=True, eq=True)
class ScenarioProblem(Problem):
    """The kernel simulator on one scenario: knobs over today's Linux, metrics of ``simulate``."""

    scenario: Scenario
    kind = "scenario"

    @property
    def name(self) -> str:
        return self.scenario.name

    def knobs(self) -> dict[str, Knob]:
        return knob_catalogue()

    def metrics(self) -> dict[str, MetricSpec]:
        return metric_catalogue()

    def hard_limits(self) -> dict[str, float]:
        return hard_limits()

    def describe(self) -> dict[str, str]:
        about = {"scenario": self.scenario.name, "description": self.scenario.description}
        if self.scenario.source:
            about["source"] = self.scenario.source
        return about

    def check(self, params: Mapping[str, Any]) -> dict[str, Any]:
        # ``policy()`` validates each value against its knob (``with_knobs``): one check.
        return dict(params)

    def _evaluate(self, params: dict[str, Any], seed: int) -> dict[str, float]:
        return simulate(self.policy(params), self.scenario, seed).as_dict()

    def _evaluate_batch(self, batch: list[dict[str, Any]], seed: int) -> list[dict[str, float]]:
        # one vectorised simulation of the batch, each point's metrics exactly ``_evaluate``'s
        policies = [self.policy(params) for params in batch]
        return [m.as_dict() for m in simulate_batch(policies, self.scenario, seed)]

    def baseline_params(self) -> dict[str, Any]:
        return baseline().knobs()

    def policy(self, params: Mapping[str, Any]) -> Policy:
        return baseline().with_knobs(params, source=f"<{self.name}>")

    def scenarios(self) -> tuple[Scenario, ...]:
        return (self.scenario,)

    def to_mapping(self) -> dict[str, Any]:
        return self.scenario.to_mapping()

    @classmethod
    def from_job(cls, ref: Any, *, source: str, relative_to: Path | None) -> ScenarioProblem:
        """The scenario a job names (a built-in name or a file relative to the job)."""
        if not isinstance(ref, str) or not ref:
            raise InputError(source, "scenario", f"found {ref!r}, expected a non-empty string")
        try:
            return cls(load_scenario(ref, relative_to=relative_to))
        except InputError as exc:
            raise InputError(source, "scenario", str(exc)) from None

    @classmethod
    def from_mapping(cls, data: Any, *, source: str) -> ScenarioProblem:
        return cls(scenario_from_mapping(data, source=source))


@dataclass(frozen=True)
class ProblemKind:
    """How a job names a problem kind, and how a study's stored mapping is recognised."""

    key: str
    from_job: Callable[..., Problem]
    from_mapping: Callable[..., Problem]
    stored_as: Callable[[Any], bool]


def _problem_kinds() -> dict[str, ProblemKind]:
    from objectives.benchmarks import Benchmark
    from objectives.mix import MixProblem

    return {
        "benchmark": ProblemKind(
            "benchmark",
            Benchmark.from_job,
            Benchmark.from_mapping,
            lambda data: isinstance(data, Mapping) and set(data) == {"benchmark"},
        ),
        "scenarios": ProblemKind(
            "scenarios", MixProblem.from_job, MixProblem.from_mapping, MixProblem.stored_as
        ),
        # the scenario kind accepts any other mapping, so it is tried last
        "scenario": ProblemKind(
            "scenario", ScenarioProblem.from_job, ScenarioProblem.from_mapping, lambda data: True
        ),
    }


PROBLEM_KINDS: dict[str, ProblemKind] = {}
"""Job key -> problem kind; filled on first use (``problem_kinds()``)."""


def problem_kinds() -> dict[str, ProblemKind]:
    """The registered problem kinds, in the order a stored mapping is matched against them."""
    if not PROBLEM_KINDS:
        PROBLEM_KINDS.update(_problem_kinds())
    return PROBLEM_KINDS


def problem_from_job(data: Mapping[str, Any], *, source: str, relative_to: Path | None) -> Problem:
    """The problem a job mapping names under exactly one kind's key.

    Raises:
        InputError: no kind's key, or more than one.
    """
    kinds = problem_kinds()
    named = [key for key in kinds if key in data]
    if len(named) > 1:
        raise InputError(
            source, named[0], f"found both {' and '.join(named)}, expected exactly one of them"
        )
    if not named:
        raise InputError(
            source,
            "scenario",
            "missing required key (a built-in scenario name or a file; or "
            f"{', '.join(k for k in kinds if k != 'scenario')} for a test problem)",
        )
    key = named[0]
    return kinds[key].from_job(data[key], source=source, relative_to=relative_to)


def problem_from_mapping(data: Any, *, source: str) -> Problem:
    """The problem a study stored with ``Problem.to_mapping()``.

    Raises:
        InputError: the mapping is not a valid problem of any kind.
    """
    for kind in problem_kinds().values():
        if kind.stored_as(data):
            return kind.from_mapping(data, source=source)
    raise InputError(source, "", "not a stored problem")  # pragma: no cover - scenario matches all
