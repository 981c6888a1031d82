"""What a study remembers about its job, so ``front``, ``export`` and ``report`` need only the
storage and the study name.

Study system attributes: ``policysearch:job`` (the job file as written),
``policysearch:scenario`` (the problem as ``Problem.to_mapping()``: the full scenario, or
``{benchmark: NAME}``), ``policysearch:scenario_name``, ``policysearch:objectives``
(``[[metric, direction], ...]``), ``policysearch:constraints`` (``[[metric, op, bound], ...]``:
the bound a JSON number, so it reads back exactly), ``policysearch:reference``,
``policysearch:sim_seed``, ``policysearch:version`` and, for a problem with a
baseline, ``policysearch:baseline_metrics`` (today's Linux simulated on the problem, the row
``front`` marks ``today``), and for a job with an ``uncertainty:`` section
``policysearch:uncertainty`` (its plan, ``UncertaintyPlan.to_mapping()``; the stored problem
is then the ``UncertainProblem`` under it, which ``problem_from_mapping`` rebuilds). A resumed
study refuses a job whose plan differs (``check_compatible``). What each trial stores is
``policysearch.run.records``' business.

Why system attributes: they are policysearch's own data, and ``optuna studies`` prints every
study's user attributes in its table (a whole scenario per row). Optuna's storages keep system
attributes like user ones (any JSON value), optuna-dashboard reads its own keys there and
ignores ours, and the metric names it shows are Optuna's (``Study.set_metric_names``). Studies
written before (the same keys as user attributes) are read alike: ``attributes`` merges both,
and ``note_target`` updates the key where the study has it.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any

import optuna

from objectives import (
    InputError,
    MetricSpec,
    Problem,
    UncertaintyPlan,
    plan_from_mapping,
    problem_from_mapping,
    problem_kinds,
)
from policysearch import __version__
from policysearch.errors import BadInput
from policysearch.jobs.config import (
    UNCERTAINTY_KEY,
    Constraint,
    Dimension,
    JobConfig,
    Objective,
    split_space,
)
from policysearch.run import records
from policysearch.run.reference import Reference, from_baseline

PREFIX = "policysearch:"


def record(study: optuna.Study, job: JobConfig, sim_seed: int) -> None:
    """Store the job in a new study, with the hypervolume's reference point fixed for good."""
    attrs: dict[str, Any] = {
        "job": _plain(job.raw),
        "job_file": job.source,
        "scenario": job.problem.to_mapping(),
        "scenario_name": job.problem.name,
        "objectives": [[o.metric, o.direction] for o in job.objectives],
        "constraints": [c.as_data() for c in job.constraints],
        "sampler": job.sampler.name,
        "sampler_seed": job.sampler.seed,
        "sim_seed": sim_seed,
        "version": __version__,
    }
    if job.plan is not None:
        attrs[UNCERTAINTY_KEY] = job.plan.to_mapping()
    today = _baseline_metrics(job)
    if today is not None:
        reference = from_baseline(
            [today[o.metric] for o in job.objectives], [o.direction for o in job.objectives]
        )
        attrs["reference"] = {"point": list(reference.point), "origin": reference.origin}
        attrs["baseline_metrics"] = today
    version = attrs.pop("version")  # last: ``is_recorded`` reads it as "the job is stored"
    attrs["version"] = version
    for key, value in attrs.items():
        study._storage.set_study_system_attr(study._study_id, PREFIX + key, value)
    with warnings.catch_warnings():  # experimental in Optuna, and what optuna-dashboard reads
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        study.set_metric_names([o.metric for o in job.objectives])


def _baseline_metrics(job: JobConfig) -> dict[str, float] | None:
    """Today's Linux simulated on the job's problem (``None`` without a baseline): stored with
    the study, so ``front`` shows it without simulating (the model is deterministic). Under an
    uncertainty plan: its metrics under the plan's statistic, as the trials' (the spreads
    are left out)."""
    today = job.problem.baseline_params()
    if today is None:
        return None
    return records.split_spread(job.problem.evaluate(today))[0]


def attributes(study: Any) -> dict[str, Any]:
    """The ``policysearch:`` attributes of ``study`` (an Optuna study, or a scanned one with
    ``user_attrs`` and ``system_attrs``): system attributes, over the user attributes of
    studies written before they moved there."""
    if isinstance(study, optuna.Study):
        system = study._storage.get_study_system_attrs(study._study_id)
        user = study._storage.get_study_user_attrs(study._study_id)
    else:
        system, user = study.system_attrs, study.user_attrs
    merged = {k: v for k, v in user.items() if k.startswith(PREFIX)}
    merged.update((k, v) for k, v in system.items() if k.startswith(PREFIX))
    return merged


def is_recorded(study: optuna.Study) -> bool:
    """Whether the study holds its job yet (``version`` is stored last)."""
    return PREFIX + "version" in attributes(study)


@dataclass(frozen=True)
class StudyInfo:
    """The job facts a stored study carries."""

    name: str
    objectives: tuple[Objective, ...]
    constraints: tuple[Constraint, ...]
    problem: Problem
    dimensions: tuple[Dimension, ...]
    fixed: dict[str, Any]
    sampler: str
    sampler_seed: int
    sim_seed: int
    job: dict[str, Any]
    job_file: str | None = None
    reference: Reference | None = None
    baseline_metrics: dict[str, float] | None = None
    """Today's Linux's metrics stored with the study (``None``: an older study, or no
    baseline; ``StudyView.baseline_metrics`` then simulates them)."""
    plan: UncertaintyPlan | None = None
    """The job's uncertainty plan (``None``: the job had no ``uncertainty:`` section)."""

    @property
    def nominal_problem(self) -> Problem:
        """The problem with the model's constants as they are: under a plan, the problem the
        ``UncertainProblem`` wraps (its ``problem``); else ``problem`` itself."""
        return self.problem if self.plan is None else self.problem.problem  # type: ignore[attr-defined]

    @property
    def metric_catalogue(self) -> dict[str, MetricSpec]:
        """The metrics trials of this study carry."""
        return self.problem.metrics()

    def point(self, params: dict[str, Any]) -> dict[str, Any]:
        """The knobs a trial with ``params`` evaluated: the job's fixed knobs, then its own."""
        return {**self.fixed, **params}


def read(study: optuna.Study, storage_url: str) -> StudyInfo:
    """Read the job facts back.

    Raises:
        BadInput: the study was not created by policysearch, or this version cannot read it.
    """
    attrs = attributes(study)
    if PREFIX + "objectives" not in attrs:
        raise BadInput(
            storage_url,
            study.study_name,
            "this study was not created by policysearch (no stored job)",
        )
    source = f"{storage_url}: study {study.study_name!r}"
    objectives = tuple(Objective(m, d) for m, d in attrs[PREFIX + "objectives"])
    constraints = tuple(_constraint(item) for item in attrs.get(PREFIX + "constraints", []))
    try:
        problem = problem_from_mapping(attrs[PREFIX + "scenario"], source=f"{source} (stored)")
    except InputError as exc:
        raise BadInput(storage_url, study.study_name, f"stored problem: {exc.detail}") from None
    job = attrs.get(PREFIX + "job", {})
    space = job.get("space")
    dimensions, fixed = split_space(
        problem.default_space() if space is None else space, source, problem.knobs()
    )
    return StudyInfo(
        name=study.study_name,
        objectives=objectives,
        constraints=constraints,
        problem=problem,
        dimensions=dimensions,
        fixed=fixed,
        sampler=attrs.get(PREFIX + "sampler", "?"),
        sampler_seed=int(attrs.get(PREFIX + "sampler_seed", 0)),
        sim_seed=int(attrs.get(PREFIX + "sim_seed", 0)),
        job=job,
        job_file=attrs.get(PREFIX + "job_file"),
        reference=_stored_reference(attrs.get(PREFIX + "reference"), len(objectives)),
        baseline_metrics=_stored_metrics(attrs.get(PREFIX + "baseline_metrics")),
        plan=_stored_plan(attrs.get(PREFIX + UNCERTAINTY_KEY), storage_url, study.study_name),
    )


def _stored_plan(stored: Any, storage_url: str, study_name: str) -> UncertaintyPlan | None:
    """The stored uncertainty plan, or ``None`` (the study's job had none).

    Raises:
        BadInput: a stored plan this version cannot read.
    """
    if stored is None:
        return None
    try:
        return plan_from_mapping(stored, source=f"{storage_url}: study {study_name!r} (stored)")
    except InputError as exc:
        raise BadInput(storage_url, study_name, f"stored uncertainty plan: {exc.detail}") from None


def _stored_metrics(stored: Any) -> dict[str, float] | None:
    """The stored metrics of today's Linux, or ``None`` (older studies, or not numbers)."""
    if not isinstance(stored, dict) or not all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in stored.values()
    ):
        return None
    return {str(k): float(v) for k, v in stored.items()}


def _stored_reference(stored: Any, objectives: int) -> Reference | None:
    """The stored point, or ``None`` (older studies, or one that does not fit the objectives)."""
    if not isinstance(stored, dict):
        return None
    point = stored.get("point")
    if not isinstance(point, list) or len(point) != objectives:
        return None
    if not all(isinstance(v, int | float) and math.isfinite(v) for v in point):
        return None
    return Reference(tuple(float(v) for v in point), str(stored.get("origin", "stored")))


def _constraint(item: Any) -> Constraint:
    if isinstance(item, str):  # studies written before bounds were stored as data
        metric, op, bound = item.split()
        return Constraint(metric, op, float(bound))
    metric, op, bound = item
    return Constraint(metric, op, float(bound))


def note_target(study: optuna.Study, trials: int) -> None:
    """Record the trial count the study was last run to (the stored job says what it reached)."""
    key = PREFIX + "job"
    storage, study_id = study._storage, study._study_id
    system = storage.get_study_system_attrs(study_id)
    old = key not in system and key in storage.get_study_user_attrs(study_id)
    job = dict((storage.get_study_user_attrs(study_id) if old else system).get(key) or {})
    if job.get("trials") != trials:
        job["trials"] = trials
        if old:  # a study written before the job moved to system attributes keeps its place
            study.set_user_attr(key, job)
        else:
            storage.set_study_system_attr(study_id, key, job)


def check_compatible(study: optuna.Study, job: JobConfig, storage_url: str) -> None:
    """Refuse to resume a study with a job whose objectives or scenario differ.

    Raises:
        BadInput: naming the study and what differs.
    """
    info = read(study, storage_url)
    if info.plan != job.plan:
        raise BadInput(
            job.source,
            UNCERTAINTY_KEY,
            f"found {describe_plan(job.plan)}, but study {study.study_name!r} in {storage_url} "
            f"was run with {describe_plan(info.plan)}; use another --study name or the "
            "original job",
        )
    if info.objectives != job.objectives:
        found = [f"{o.metric} ({o.direction})" for o in job.objectives]
        stored = [f"{o.metric} ({o.direction})" for o in info.objectives]
        raise BadInput(
            job.source,
            "objectives",
            f"found {found}, but study {study.study_name!r} in {storage_url} was run "
            f"with {stored}; use another --study name or the original job",
        )
    if info.problem != job.problem:
        key = next(
            (k for k in problem_kinds() if k in job.raw and k != UNCERTAINTY_KEY), "scenario"
        )
        raise BadInput(
            job.source,
            key,
            f"differs from the {key} stored in study {study.study_name!r} "
            f"({info.problem.name}); use another --study name or the original job",
        )


def describe_plan(plan: UncertaintyPlan | None) -> str:
    """A plan in a few words: ``64 lhs draws (seed 0) of 12 assumed constants, quantile 0.9``
    (``no uncertainty section`` for ``None``)."""
    if plan is None:
        return "no uncertainty section"
    statistic = plan.statistic if plan.quantile is None else f"quantile {plan.quantile:g}"
    if plan.statistic == "mean":
        statistic = "mean"
    constants = len(plan.constants)
    return (
        f"{plan.draws} {plan.method} draws (seed {plan.seed}) of {constants} assumed "
        f"constant{'s' * (constants != 1)}, {statistic}"
    )


def _plain(value: Any) -> Any:
    """YAML data as JSON-safe plain data."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)
