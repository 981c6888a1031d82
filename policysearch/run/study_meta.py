"""What a study remembers about its job, so ``front``, ``export`` and ``report`` need only the
storage and the study name.

Study user attributes (readable by optuna-dashboard and the ``optuna`` CLI):
``policysearch:job`` (the job file as written), ``policysearch:scenario`` (the full scenario),
``policysearch:scenario_name``, ``policysearch:objectives`` (``[[metric, direction], ...]``),
``policysearch:constraints`` (``["metric <= bound", ...]``), ``policysearch:sim_seed`` and
``policysearch:version``. Each trial stores every metric as a user attribute of the same name,
its constraint values through ``Trial.set_constraint`` and its objective values.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import optuna

from objectives import CATALOGUE, Scenario
from objectives.benchmarks import BENCHMARKS, Benchmark, benchmark_metrics
from objectives.scenario import scenario_from_mapping
from policysearch import __version__
from policysearch.config import Constraint, JobConfig, Objective
from policysearch.errors import BadInput

PREFIX = "policysearch:"


def record(study: optuna.Study, job: JobConfig, sim_seed: int) -> None:
    """Store the job in a new study."""
    attrs: dict[str, Any] = {
        "job": _plain(job.raw),
        "job_file": job.source,
        "scenario": job.scenario.to_mapping(),
        "scenario_name": job.scenario.name,
        "objectives": [[o.metric, o.direction] for o in job.objectives],
        "constraints": [str(c) for c in job.constraints],
        "sampler": job.sampler.name,
        "sampler_seed": job.sampler.seed,
        "sim_seed": sim_seed,
        "version": __version__,
    }
    for key, value in attrs.items():
        study.set_user_attr(PREFIX + key, value)
    study.set_metric_names([o.metric for o in job.objectives])


@dataclass(frozen=True)
class StudyInfo:
    """The job facts a stored study carries."""

    name: str
    objectives: tuple[Objective, ...]
    constraints: tuple[Constraint, ...]
    scenario: Scenario | Benchmark
    sampler: str
    sampler_seed: int
    sim_seed: int
    job: dict[str, Any]

    @property
    def is_benchmark(self) -> bool:
        """True for a study of an analytic benchmark problem (no kernel policy)."""
        return isinstance(self.scenario, Benchmark)

    @property
    def metric_catalogue(self) -> dict[str, Any]:
        """The metrics trials of this study carry: the simulator's or the benchmark's."""
        if isinstance(self.scenario, Benchmark):
            return benchmark_metrics(self.scenario)
        return dict(CATALOGUE)

    @property
    def fixed_knobs(self) -> dict[str, Any]:
        """Knobs the job fixed rather than searched (scalars in its ``space``)."""
        space = self.job.get("space") or {}
        return {k: v for k, v in space.items() if not isinstance(v, list | dict)}


def read(study: optuna.Study, storage_url: str) -> StudyInfo:
    """Read the job facts back.

    Raises:
        BadInput: the study was not created by policysearch.
    """
    attrs = study.user_attrs
    if PREFIX + "objectives" not in attrs:
        raise BadInput(
            storage_url,
            study.study_name,
            "this study was not created by policysearch (no stored job)",
        )
    objectives = tuple(Objective(m, d) for m, d in attrs[PREFIX + "objectives"])
    constraints = []
    for text in attrs.get(PREFIX + "constraints", []):
        metric, op, bound = text.split()
        constraints.append(Constraint(metric, op, float(bound)))
    stored = attrs[PREFIX + "scenario"]
    if isinstance(stored, dict) and set(stored) == {"benchmark"}:
        if stored["benchmark"] not in BENCHMARKS:
            raise BadInput(
                storage_url,
                study.study_name,
                f"stored benchmark {stored['benchmark']!r} is unknown to this version",
            )
        scenario: Scenario | Benchmark = BENCHMARKS[stored["benchmark"]]
    else:
        scenario = scenario_from_mapping(stored, source=f"{study.study_name} (stored scenario)")
    return StudyInfo(
        name=study.study_name,
        objectives=objectives,
        constraints=tuple(constraints),
        scenario=scenario,
        sampler=attrs.get(PREFIX + "sampler", "?"),
        sampler_seed=int(attrs.get(PREFIX + "sampler_seed", 0)),
        sim_seed=int(attrs.get(PREFIX + "sim_seed", 0)),
        job=attrs.get(PREFIX + "job", {}),
    )


def check_compatible(study: optuna.Study, job: JobConfig, storage_url: str) -> None:
    """Refuse to resume a study with a job whose objectives or scenario differ.

    Raises:
        BadInput: naming the study and what differs.
    """
    info = read(study, storage_url)
    if info.objectives != job.objectives:
        found = [f"{o.metric} ({o.direction})" for o in job.objectives]
        stored = [f"{o.metric} ({o.direction})" for o in info.objectives]
        raise BadInput(
            job.source,
            "objectives",
            f"found {found}, but study {study.study_name!r} in {storage_url} was run "
            f"with {stored}; use another --study name or the original job",
        )
    if info.scenario != job.scenario:
        raise BadInput(
            job.source,
            "scenario",
            f"differs from the scenario stored in study {study.study_name!r} "
            f"({info.scenario.name}); use another --study name or the original job",
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
