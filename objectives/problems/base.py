"""The one interface the search service sees: a ``Problem`` to search.

A problem has knobs (what a search may set), metrics (what an evaluation returns, with units
and directions), hard limits (risk metrics no point may exceed) and an evaluation. The service
never asks what kind of problem it holds; it only calls these methods. Two kinds exist:

* ``objectives.problems.scenario.ScenarioProblem``: the kernel simulator on one scenario; a
  point is a set of knobs laid over today's Linux (``baseline()``), evaluated with
  ``simulate``;
* ``objectives.problems.mix.MixProblem``: one policy on a weighted mix of scenarios;
* ``objectives.problems.benchmarks.Benchmark``: an analytic problem with a known front (ZDT,
  DTLZ).

Rules every problem keeps (the model is pymoo's ``Problem``: the public method validates, the
private one computes):

* ``evaluate(params)`` checks ``params`` (``check``: ``InputError`` on an unknown knob or a
  bad value) and returns ``{metric: float}`` with every metric of ``metrics()``; the same
  params give the same numbers bit for bit. A subclass overrides ``_evaluate`` (and
  ``check`` when its points are validated elsewhere), never ``evaluate``.
* ``evaluate_batch(batch)`` equals ``[evaluate(p) for p in batch]``; subclasses override
  ``_evaluate_batch`` where they can vectorise.
* ``to_mapping()`` is plain data that ``problem_from_mapping`` turns back into an equal problem
  (a study stores it, so its front can be read without the job file).
* ``baseline_params()`` is today's Linux as knobs, or ``None`` when the problem has no baseline;
  ``scenarios()`` are the kernel scenarios it simulates (none for an analytic problem).

A new kind registers its job key with ``register_problem_kind`` (``objectives.problems``
registers the built-in ones); this module names no kind.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from objectives.core.errors import InputError, one_of
from objectives.core.fields import convert
from objectives.core.metric_spec import MetricSpec
from objectives.core.policy import Knob, Policy
from objectives.core.scenario import Scenario

if TYPE_CHECKING:
    from objectives.engine.part_cache import PartCache


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

    def evaluate(self, params: Mapping[str, Any]) -> dict[str, float]:
        """Check ``params`` against ``knobs()`` and evaluate them.

        Raises:
            InputError: an unknown knob or a value outside its knob's domain.
        """
        return self._evaluate(self.check(params))

    def evaluate_batch(self, batch: Sequence[Mapping[str, Any]]) -> list[dict[str, float]]:
        """``evaluate`` for every point of ``batch``."""
        return self._evaluate_batch([self.check(params) for params in batch])

    def check(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """``params`` validated against ``knobs()``, converted to their knobs' types."""
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
    def _evaluate(self, params: dict[str, Any]) -> dict[str, float]:
        """Evaluate checked ``params``."""

    def _evaluate_batch(self, batch: list[dict[str, Any]]) -> list[dict[str, float]]:
        """Evaluate checked points (override to vectorise; the same numbers as ``_evaluate``)."""
        return [self._evaluate(params) for params in batch]

    def baseline_params(self) -> dict[str, Any] | None:
        """Today's Linux as knobs, or ``None`` when the problem has no baseline."""
        return None

    def policy(self, params: Mapping[str, Any]) -> Policy | None:
        """The kernel policy ``params`` stand for (``None`` when they stand for none)."""
        return None

    def scenarios(self) -> tuple[Scenario, ...]:
        """The kernel scenarios the problem simulates (none for an analytic problem)."""
        return ()

    def under(self, values: Mapping[str, float]) -> Problem:
        """The problem with the scenario constants ``values`` (dotted key -> number) set.

        Scenario keys as ``objectives.core.constants.constant_table`` names them
        (``costs.stacks.growth_fault_ns``); ``objectives.core.overrides.scenario_under`` sets
        them. A problem without kernel scenarios has no such constants.

        Raises:
            InputError: the problem has no constants, or a key or value is not valid.
        """
        raise InputError(
            f"<{self.name}>",
            "uncertainty.constants",
            f"the {self.kind or 'given'} problem {self.name!r} has no scenario constants to set",
        )

    def evaluate_under_each(
        self,
        batch: list[dict[str, Any]],
        problems: Sequence[Problem],
        parts: PartCache | None = None,
    ) -> list[list[dict[str, float]]]:
        """Checked points ``batch`` evaluated on each of ``problems``, each this problem
        ``under`` some constants: ``[p._evaluate_batch(batch) for p in problems]``, the same
        numbers. Override to evaluate them together (one vectorised pass over draws x points).
        ``parts``: prepared family parts a simulating override may take and keep across calls
        (``objectives.engine.part_cache``); others ignore it.
        """
        return [problem._evaluate_batch(batch) for problem in problems]

    def true_front(self, points: int = 1000) -> np.ndarray | None:
        """About ``points`` points of the known Pareto front, or ``None`` when unknown."""
        return None

    @abc.abstractmethod
    def to_mapping(self) -> dict[str, Any]:
        """Plain data that ``problem_from_mapping`` turns back into an equal problem."""


@dataclass(frozen=True)
class ProblemKind:
    """How a job names a problem kind, and how a study's stored mapping is recognised.

    ``from_job`` is ``None`` for a kind a job does not name by a key of its own (a problem
    that wraps another, such as the uncertainty wrapper a job's ``uncertainty:`` section asks
    for): such a kind is only rebuilt from a study's stored mapping.
    """

    key: str
    from_job: Callable[..., Problem] | None
    from_mapping: Callable[..., Problem]
    stored_as: Callable[[Any], bool]


PROBLEM_KINDS: dict[str, ProblemKind] = {}
"""Job key -> problem kind, in the order a stored mapping is matched against them."""


def register_problem_kind(kind: ProblemKind, *, before: str | None = None) -> ProblemKind:
    """Add ``kind`` after the kinds registered so far, or just before the kind ``before``
    (a kind registered by a later layer goes before the catch-all ``scenario`` kind).

    Raises:
        ValueError: a kind with that key is already registered, or ``before`` is not one.
    """
    if kind.key in PROBLEM_KINDS:
        raise ValueError(f"problem kind {kind.key!r} is already registered")
    if before is None:
        PROBLEM_KINDS[kind.key] = kind
        return kind
    if before not in PROBLEM_KINDS:
        raise ValueError(f"problem kind {before!r} is not registered")
    items = list(PROBLEM_KINDS.items())
    at = [key for key, _ in items].index(before)
    items.insert(at, (kind.key, kind))
    PROBLEM_KINDS.clear()
    PROBLEM_KINDS.update(items)
    return kind


def problem_kinds() -> dict[str, ProblemKind]:
    """The registered problem kinds, in the order a stored mapping is matched against them."""
    return PROBLEM_KINDS


def problem_from_job(data: Mapping[str, Any], *, source: str, relative_to: Path | None) -> Problem:
    """The problem a job mapping names under exactly one kind's key.

    Raises:
        InputError: no kind's key, or more than one.
    """
    kinds = {key: kind for key, kind in problem_kinds().items() if kind.from_job is not None}
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
    from_job = kinds[key].from_job
    assert from_job is not None  # filtered above
    return from_job(data[key], source=source, relative_to=relative_to)


def problem_from_mapping(data: Any, *, source: str) -> Problem:
    """The problem a study stored with ``Problem.to_mapping()``.

    Raises:
        InputError: the mapping is not a valid problem of any kind.
    """
    for kind in problem_kinds().values():
        if kind.stored_as(data):
            return kind.from_mapping(data, source=source)
    raise InputError(source, "", "not a stored problem")  # pragma: no cover - scenario matches all
