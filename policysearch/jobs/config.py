"""Search jobs: the YAML format, its validation, and the frozen ``JobConfig``.

A job file::

    name: quickstart                  # study name (default: the file name)
    scenario: thread-churn-20         # built-in scenario name, or a file relative to this one
    # benchmark: zdt1                 # or an analytic problem (zdt1, zdt2, zdt3, dtlz2) with
                                      # variables x0.. in [0, 1] and objectives f1, f2 (, f3)
    # scenarios: {mixed-fleet-server: 0.6, fork-exec-storm: 0.4}   # or a weighted mix
    space:                            # knob -> choices (list), range (mapping) or fixed value
      pid.range_width: [0, 32, 250, 1024]
      pid.range_share_cpus: {low: 1, high: 16}
      pid.lock_mode: once
    objectives:                       # metric names; direction defaults to the catalogue's
      - pid_bytes
      - {metric: clone_latency_p99_ns, direction: minimize}
    constraints:                      # "metric <= value" or "metric >= value"; risk metrics
                                      # with a hard limit (stack_overflows_per_day <= 0) are
                                      # always added
      - clone_throughput_per_s >= 500000
    sampler: {name: nsga2, seed: 0, population_size: 20}   # nsga2 | tpe | gp | random
    trials: 200
    workers: 2
    executor: auto                    # auto (default) | serial | ray
    address: null                     # Ray cluster address (null: start Ray on this machine)
    storage: policysearch.journal     # journal file (relative to the working directory) or URL
    uncertainty:                      # optional: evaluate each trial under draws of the model's
      draws: 64                       # assumed constants (objectives.UncertaintyPlan)
      method: lhs                     # lhs | sobol | random
      seed: 0                         # picks the draws; every trial sees the same draws
      statistic: {quantile: 0.9}      # or mean; taken on each metric's bad side
      constants: all-assumed          # or a list of constant names

With ``uncertainty:`` the problem the search evaluates is ``objectives.UncertainProblem`` over
the named problem: each objective and constraint is the plan's statistic over the draws, a hard
limit holds in every draw, and each trial also stores each metric's low / median / high
(``run.records``). The plan is stored with the study (``run.study_meta``).

With ``scenarios:`` (a mix, ``objectives.problems.mix``) an objective may say how its metric
aggregates across the scenarios: ``{metric: M, across: worst|weighted|best|SCENARIO}``
(default ``worst``), which names the problem metric ``M`` (the worst case), ``M:weighted``,
``M:best`` or ``M@SCENARIO``. A constraint holds in every scenario (``M <= X`` bounds the
largest value over the scenarios, ``M >= X`` the smallest), unless it ends in ``in
SCENARIO``: ``M >= X in fork-exec-storm``.
The problem's metric names may be written directly too (``M:weighted``, ``M@SCENARIO``).

Every error names the file, the key path, what was found and what is expected.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from objectives import (
    AGGREGATES,
    Problem,
    UncertainProblem,
    UncertaintyPlan,
    aggregate_name,
    convert,
    one_of,
    plan_from_mapping,
    problem_from_job,
    problem_kinds,
    read_yaml,
    shorten,
    split_name,
)
from policysearch.errors import BadInput
from policysearch.jobs.executor_names import AUTO, EXECUTOR_CHOICES
from policysearch.jobs.samplers import SAMPLERS, SamplerConfig

DEFAULT_STORAGE = "policysearch.journal"
UNCERTAINTY_KEY = "uncertainty"
_TOP_KEYS = (
    "name",
    *(k for k in problem_kinds() if k != UNCERTAINTY_KEY),
    "space",
    "objectives",
    "constraints",
    "sampler",
    "trials",
    "workers",
    "executor",
    "address",
    "storage",
    UNCERTAINTY_KEY,
)
NAME_PATTERN = re.compile(r"[A-Za-z0-9_.:-]+")
MAX_NAME_LENGTH = 512
"""Longest study name: Optuna's database column for it (``studies.study_name``) holds 512
characters. One rule for every storage, so a study can move between them."""


def name_problem(name: str) -> str | None:
    """Why ``name`` cannot name a study (``NAME_PATTERN``, ``MAX_NAME_LENGTH``), or ``None``."""
    if len(name) > MAX_NAME_LENGTH:
        return (
            f"found a name of {len(name)} characters, expected at most {MAX_NAME_LENGTH} "
            "(the longest study name a database storage holds)"
        )
    if not NAME_PATTERN.fullmatch(name):
        return f"found {shorten(name)}, expected letters, digits and _.:- only"
    return None


"""What a study name may hold (a job's ``name``, ``--study``)."""
MAX_TRIALS = 10_000_000
MAX_WORKERS = 100_000
_CONSTRAINT = re.compile(r"^\s*([^\s<>=]+)\s*(<=|>=)\s*(\S+)(?:\s+in\s+(\S+))?\s*$")


@dataclass(frozen=True)
class Objective:
    """An objective: a catalogue metric and the direction to optimise it in."""

    metric: str
    direction: str  # "minimize" | "maximize"


@dataclass(frozen=True)
class Constraint:
    """A bound on a metric; its Optuna constraint value is <= 0 when satisfied."""

    metric: str
    op: str  # "<=" | ">="
    bound: float

    def violation(self, value: float | np.ndarray) -> float | np.ndarray:
        """Relative violation: ``(value - bound) / |bound|`` for ``<=`` (sign flipped for ``>=``).

        Relative, so that constraints in different units weigh alike in constrained domination.
        """
        scale = abs(self.bound) if self.bound != 0 else 1.0
        excess = value - self.bound if self.op == "<=" else self.bound - value
        return excess / scale

    def __str__(self) -> str:
        return f"{self.metric} {self.op} {exact_number(self.bound)}"

    def as_data(self) -> list[Any]:
        """``[metric, op, bound]``: plain data that keeps the bound exact (a study stores it)."""
        return [self.metric, self.op, self.bound]


def exact_number(value: float) -> str:
    """The shortest text that reads back as exactly ``value`` (``1234567``, ``0.1 + 0.2``),
    without an exponent (``0.000001``, not ``1e-06``)."""
    if value.is_integer() and abs(value) < 2**53:
        return str(int(value))
    return np.format_float_positional(value, unique=True, trim="-")


@dataclass(frozen=True)
class Dimension:
    """One searched knob: either ``choices`` or a ``low``..``high`` range."""

    knob: str
    choices: tuple[Any, ...] | None = None
    low: float | None = None
    high: float | None = None
    log: bool = False
    step: float | None = None
    integer: bool = False


@dataclass(frozen=True)
class JobConfig:
    """A validated search job."""

    name: str
    source: str
    problem: Problem  # a kernel scenario, or an analytic benchmark problem
    dimensions: tuple[Dimension, ...]
    fixed: dict[str, Any]
    objectives: tuple[Objective, ...]
    constraints: tuple[Constraint, ...] = ()
    sampler: SamplerConfig = field(default_factory=SamplerConfig)
    trials: int = 100
    workers: int = 2
    executor: str = AUTO
    address: str | None = None
    storage: str = DEFAULT_STORAGE
    raw: dict[str, Any] = field(default_factory=dict)
    plan: UncertaintyPlan | None = None
    """The ``uncertainty:`` section (``None``: none); ``problem`` is then the
    ``UncertainProblem`` of the named problem under it."""


def load_job(path: str | Path) -> JobConfig:
    """Read and validate a job file.

    Raises:
        BadInput: naming the file and key at fault.
    """
    path = Path(path)
    source = str(path)
    data = read_yaml(path)
    return job_from_mapping(
        data, source=source, base_dir=path.resolve().parent, default_name=path.stem
    )


def job_from_mapping(data: Any, *, source: str, base_dir: Path, default_name: str) -> JobConfig:
    """Validate a job mapping (see the module docstring for the format)."""
    if not isinstance(data, dict):
        raise BadInput(
            source, "(top level)", "expected a mapping with keys: " + ", ".join(_TOP_KEYS)
        )
    unknown = [k for k in data if k not in _TOP_KEYS]
    if unknown:
        raise BadInput(
            source, str(unknown[0]), f"unknown key; expected one of: {', '.join(_TOP_KEYS)}"
        )
    name = _string(data.get("name", default_name), source, "name")
    problem = name_problem(name)
    if problem:
        raise BadInput(source, "name", problem)
    # the section wraps the named problem (it is the stored kind of the wrapper, not a problem
    # a job names on its own)
    named = {k: v for k, v in data.items() if k != UNCERTAINTY_KEY}
    problem = problem_from_job(named, source=source, relative_to=base_dir)
    plan = None
    if UNCERTAINTY_KEY in data:
        plan, problem = _uncertain(data[UNCERTAINTY_KEY], problem, source)
    space = data.get("space")
    if space is None:
        space = problem.default_space()
    dims, fixed = split_space(space, source, problem.knobs())
    metrics = problem.metrics()
    objectives = _objectives(data.get("objectives"), source, metrics)
    constraints = _constraints(
        data.get("constraints") or [], source, metrics, problem.hard_limits()
    )
    return JobConfig(
        name=name,
        source=source,
        problem=problem,
        dimensions=dims,
        fixed=fixed,
        objectives=objectives,
        constraints=constraints,
        sampler=_sampler(data.get("sampler"), source),
        trials=_integer(data.get("trials", 100), source, "trials", 1, MAX_TRIALS),
        workers=_integer(data.get("workers", 2), source, "workers", 1, MAX_WORKERS),
        executor=_choice(data.get("executor", AUTO), source, "executor", EXECUTOR_CHOICES),
        address=_optional_string(data.get("address"), source, "address"),
        storage=_string(data.get("storage", DEFAULT_STORAGE), source, "storage"),
        raw=dict(data),
        plan=plan,
    )


def _uncertain(
    section: Any, problem: Problem, source: str
) -> tuple[UncertaintyPlan, UncertainProblem]:
    """The plan of a job's ``uncertainty:`` section and the problem under it.

    Raises:
        BadInput: a bad key or value of the section, or a problem without assumed constants
            (an analytic benchmark).
    """
    if not problem.scenarios():
        raise BadInput(
            source,
            UNCERTAINTY_KEY,
            f"{problem.name} is an analytic benchmark: it has no assumed constants to draw; "
            "remove the uncertainty section or name a scenario",
        )
    plan = plan_from_mapping(section, source=source)
    return plan, UncertainProblem(problem, plan)


def split_space(
    space: Any, source: str, catalogue: dict[str, Any]
) -> tuple[tuple[Dimension, ...], dict[str, Any]]:
    """A job's ``space`` validated and split into searched dimensions and fixed knobs.

    Raises:
        BadInput: an unknown knob, a bad value or range, or nothing searched.
    """
    if not isinstance(space, dict) or not space:
        raise BadInput(
            source,
            "space",
            "expected a mapping of knob -> choices list, "
            "{low, high} range or fixed value; `policysearch knobs` lists the knobs",
        )
    dims: list[Dimension] = []
    fixed: dict[str, Any] = {}
    for knob_name, spec in space.items():
        key = f"space.{knob_name}"
        if knob_name not in catalogue:
            raise BadInput(
                source,
                key,
                "unknown knob; " + one_of(knob_name, catalogue, listed_by="policysearch knobs"),
            )
        knob = catalogue[knob_name]
        if isinstance(spec, list):
            if not spec:
                raise BadInput(source, key, "found an empty list, expected at least one choice")
            values = tuple(_knob_value(knob, v, source, f"{key}[{i}]") for i, v in enumerate(spec))
            if len(set(values)) != len(values):
                raise BadInput(
                    source, key, f"found repeated choices {list(values)}, expected distinct"
                )
            dims.append(Dimension(knob_name, choices=values))
        elif isinstance(spec, dict):
            dims.append(_range(knob, spec, source, key))
        else:
            fixed[knob_name] = _knob_value(knob, spec, source, key)
    if not dims:
        raise BadInput(source, "space", "every knob is fixed; expected at least one searched knob")
    return tuple(dims), fixed


def _knob_value(knob: Any, value: Any, source: str, key: str) -> Any:
    return convert(knob.type, value, knob.meta, source=source, key=key)


def _range(knob: Any, spec: dict[str, Any], source: str, key: str) -> Dimension:
    if knob.type not in (int, float) or knob.choices is not None:
        raise BadInput(
            source,
            key,
            f"found a range, expected a list of choices for {knob.name} "
            f"({', '.join(map(str, knob.choices or ()))})",
        )
    allowed = {"low", "high", "log", "step"}
    extra = [k for k in spec if k not in allowed]
    if extra:
        raise BadInput(source, f"{key}.{extra[0]}", "unknown key; expected low, high, log, step")
    for bound in ("low", "high"):
        if bound not in spec:
            raise BadInput(source, f"{key}.{bound}", "missing required key")
    low = _knob_value(knob, spec["low"], source, f"{key}.low")
    high = _knob_value(knob, spec["high"], source, f"{key}.high")
    if low >= high:
        raise BadInput(source, key, f"found low={low} >= high={high}, expected low < high")
    log = spec.get("log", False)
    if not isinstance(log, bool):
        raise BadInput(source, f"{key}.log", f"found {shorten(log)}, expected true or false")
    if log and low <= 0:
        raise BadInput(source, f"{key}.low", f"found {low}, expected > 0 with log: true")
    step = spec.get("step")
    if step is not None and (
        isinstance(step, bool) or not isinstance(step, int | float) or step <= 0
    ):
        raise BadInput(source, f"{key}.step", f"found {shorten(step)}, expected a positive number")
    if step is not None and log:
        raise BadInput(source, f"{key}.step", "step cannot be combined with log: true")
    return Dimension(knob.name, low=low, high=high, log=log, step=step, integer=knob.type is int)


def _objectives(items: Any, source: str, metrics: dict[str, Any]) -> tuple[Objective, ...]:
    if not isinstance(items, list) or not items:
        raise BadInput(
            source,
            "objectives",
            "expected a non-empty list of metric names (`policysearch metrics` lists them)",
        )
    result = []
    for i, item in enumerate(items):
        key = f"objectives[{i}]"
        allowed = {"metric", "direction", "across"}
        if isinstance(item, str):
            metric, direction, across = item, None, None
        elif isinstance(item, dict) and "metric" in item and set(item) <= allowed:
            metric, direction, across = item["metric"], item.get("direction"), item.get("across")
        else:
            raise BadInput(
                source,
                key,
                "expected a metric name or {metric: NAME, direction: minimize|maximize, "
                "across: worst|weighted|best|SCENARIO}",
            )
        metric = _across(metric, across, source, key, metrics)
        if direction is None:
            direction = metrics[metric].direction
        direction = _choice(direction, source, f"{key}.direction", ("minimize", "maximize"))
        result.append(Objective(metric, direction))
    names = [o.metric for o in result]
    if len(set(names)) != len(names):
        raise BadInput(source, "objectives", f"found repeated metrics {names}, expected distinct")
    return tuple(result)


def _constraints(
    items: Any, source: str, metrics: dict[str, Any], limits: dict[str, float]
) -> tuple[Constraint, ...]:
    if not isinstance(items, list):
        raise BadInput(
            source, "constraints", "expected a list like ['clone_latency_p99_ns <= 60000']"
        )
    result = []
    for i, item in enumerate(items):
        key = f"constraints[{i}]"
        match = _CONSTRAINT.match(item) if isinstance(item, str) else None
        if match is None:
            raise BadInput(
                source,
                key,
                f"found {shorten(item)}, expected 'METRIC <= NUMBER' or 'METRIC >= NUMBER' "
                "(with several scenarios, optionally followed by 'in SCENARIO')",
            )
        metric, op, bound_text, scenario = match.groups()
        metric = _bound_metric(metric, op, scenario, source, key, metrics)
        try:
            bound = float(bound_text)
        except ValueError:
            bound = math.nan
        if not math.isfinite(bound):
            raise BadInput(
                source, key, f"found bound {shorten(bound_text)}, expected a finite number"
            )
        # a hard limit holds in every scenario: a bound on any view of the metric may not
        # loosen it
        base = split_name(metric)[0]
        limit = next((v for n, v in limits.items() if split_name(n)[0] == base), None)
        if limit is not None and (op != "<=" or bound > limit):
            raise BadInput(
                source,
                key,
                f"found {shorten(item)}: {base} has a hard limit of {exact_number(limit)} "
                f"that every search applies; write '{base} <= {exact_number(limit)}' or leave "
                "it out",
            )
        result.append(Constraint(metric, op, bound))
    constrained = {c.metric for c in result}
    result += [
        Constraint(metric, "<=", limit)
        for metric, limit in limits.items()
        if metric not in constrained
    ]
    return tuple(result)


def _sampler(spec: Any, source: str) -> SamplerConfig:
    if spec is None:
        spec = {}
    if isinstance(spec, str):
        spec = {"name": spec}
    if not isinstance(spec, dict):
        raise BadInput(source, "sampler", "expected a sampler name or {name, seed, OPTIONS}")
    name = _choice(spec.get("name", "nsga2"), source, "sampler.name", tuple(SAMPLERS))
    kind = SAMPLERS[name]
    allowed = ("name", "seed", *kind.options)
    extra = [k for k in spec if k not in allowed]
    if extra:
        elsewhere = [other for other, k in SAMPLERS.items() if extra[0] in k.options]
        hint = f" (an option of {', '.join(elsewhere)})" if elsewhere else ""
        raise BadInput(
            source,
            f"sampler.{extra[0]}",
            f"unknown key for sampler {name}{hint}; expected {', '.join(allowed)}",
        )
    missing = kind.missing()
    if missing:
        raise BadInput(
            source,
            "sampler.name",
            f"{shorten(name)} needs {' and '.join(missing)}; install them with: "
            f"pip install {' '.join(missing)} (or choose "
            f"{', '.join(n for n in SAMPLERS if n != name)})",
        )
    options: dict[str, Any] = {}
    if "population_size" in spec:
        options["population_size"] = _integer(
            spec["population_size"], source, "sampler.population_size", 2, 100_000
        )
    if "window" in spec:  # TPE: null fits every trial
        window = spec["window"]
        options["window"] = (
            None if window is None else _integer(window, source, "sampler.window", 1, 10**9)
        )
    seed = _integer(spec.get("seed", 0), source, "sampler.seed", 0, 2**31 - 1)
    return SamplerConfig(name=name, seed=seed, options=options)


def _across(
    metric: Any,
    across: Any,
    source: str,
    key: str,
    metrics: dict[str, Any],
    across_key: str | None = None,
) -> str:
    """The problem metric an objective names: ``metric`` itself, or aggregated ``across`` the
    scenarios of a mix (by default its worst value); errors on ``across`` name ``across_key``
    (default ``KEY.across``)."""
    across_key = across_key or f"{key}.across"
    # in a mix, unknown names are matched against the catalogue's names, not all their views
    catalogue = {split_name(n)[0]: None for n in metrics}
    if across is None:
        if metric not in metrics:
            _metric(metric, source, key, catalogue)
        return metric
    if not isinstance(across, str) or not across:
        raise BadInput(
            source,
            across_key,
            f"found {shorten(across)}, expected {', '.join(AGGREGATES)} or a scenario's name",
        )
    if not isinstance(metric, str) or aggregate_name(metric, "weighted") not in metrics:
        if isinstance(metric, str) and metric in metrics:
            raise BadInput(
                source,
                across_key,
                f"found {shorten(across)}, but {metric} is not aggregated: across and "
                "'in SCENARIO' need a job that names several scenarios (scenarios:)",
            )
        _metric(metric, source, key, catalogue)
    name = aggregate_name(metric, across)
    if name not in metrics:
        scenarios = sorted({n.split("@", 1)[1] for n in metrics if "@" in n})
        raise BadInput(
            source,
            across_key,
            f"found {shorten(across)}, expected {', '.join(AGGREGATES)} or one of the job's "
            f"scenarios: {', '.join(scenarios)}",
        )
    return name


def _bound_metric(
    metric: str, op: str, scenario: str | None, source: str, key: str, metrics: dict[str, Any]
) -> str:
    """The problem metric a constraint bounds: in a mix, a bare metric must hold in every
    scenario, so ``<=`` bounds its largest value and ``>=`` its smallest (``M``, the worst case, or
    ``M:best`` by the metric's direction); ``in SCENARIO`` bounds ``M@SCENARIO``."""
    if scenario is not None:
        return _across(metric, scenario, source, key, metrics, across_key=f"{key} (in)")
    metric = _across(metric, None, source, key, metrics)
    if aggregate_name(metric, "best") not in metrics:
        return metric
    minimised = metrics[metric].direction == "minimize"
    return metric if minimised == (op == "<=") else aggregate_name(metric, "best")


def _metric(metric: Any, source: str, key: str, metrics: dict[str, Any]) -> None:
    if metric not in metrics:
        raise BadInput(
            source,
            key,
            f"found {shorten(metric)}, expected a metric from the catalogue; "
            + one_of(metric, metrics, listed_by="policysearch metrics"),
        )


def _string(value: Any, source: str, key: str) -> str:
    if not isinstance(value, str) or not value:
        raise BadInput(source, key, f"found {shorten(value)}, expected a non-empty string")
    return value


def _optional_string(value: Any, source: str, key: str) -> str | None:
    return None if value is None else _string(value, source, key)


def _integer(value: Any, source: str, key: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise BadInput(
            source, key, f"found {shorten(value)}, expected an integer in [{low}, {high}]"
        )
    return value


def _choice(value: Any, source: str, key: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise BadInput(
            source, key, f"found {shorten(value)}, expected one of: {', '.join(choices)}"
        )
    return value
