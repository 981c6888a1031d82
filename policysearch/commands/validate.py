"""``policysearch validate JOB.yaml``: check a job file without running it; one line says what
it would search."""

from __future__ import annotations

import argparse

from objectives import problem_kinds
from policysearch.jobs.config import UNCERTAINTY_KEY, JobConfig, load_job
from policysearch.run.study_meta import describe_plan


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add ``validate`` to ``sub`` (the subcommands); return its parser."""
    parser = sub.add_parser("validate", help="check a job file")
    parser.add_argument("job", help="job YAML file")
    return parser


def run(args: argparse.Namespace) -> int:
    """Load the job; print what it searches.

    Args:
        args: the parsed ``validate`` arguments.

    Returns:
        0 (a bad job raises).

    Raises:
        BadInput: the job file, naming the key, what was found and what is expected.
    """
    job = load_job(args.job)
    knobs = ", ".join(d.knob for d in job.dimensions)
    objectives = ", ".join(f"{o.metric} ({o.direction})" for o in job.objectives)
    print(
        f"{args.job}: valid. {_problem(job)}; searching {knobs}; "
        f"objectives {objectives}; {len(job.constraints)} constraints; "
        f"{job.trials} trials, {job.workers} workers (executor {job.executor}), sampler "
        f"{job.sampler.name}"
    )
    return 0


def _problem(job: JobConfig) -> str:
    """The job's problem in words: ``scenario thread-churn-20``, and its uncertainty plan."""
    if job.plan is None:
        return f"{job.problem.kind} {job.problem.name}"
    kind = next((k for k in problem_kinds() if k in job.raw and k != UNCERTAINTY_KEY), "")
    return f"{kind} {job.problem.name} under {describe_plan(job.plan)}"
