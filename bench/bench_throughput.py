"""Trials per second: policysearch against plain Optuna on the same work, in one run.

Run: ``python bench/bench_throughput.py [--trials 300]``. Prints the figures and the ratios and
writes them to ``bench/results/throughput.json``.

The work (issue 9): the quick-start job's space on thread-churn-20, NSGA-II (seed 0, population
20), the same simulation seed for every trial. Contenders, each timed from its first ask to its
last tell (Ray is started once beforehand; its start-up is reported apart):

* ``optuna_memory`` / ``optuna_journal``: a plain Optuna ask/tell loop calling the same
  ``objectives`` evaluation, storing the metrics as one user attribute and the constraint with
  ``Trial.set_constraint``, in memory and in a journal file (Optuna's own backend);
* ``serial``: ``policysearch``'s driver with the serial executor, journal file;
* ``ray_1`` / ``ray_2``: the driver with 1 and 2 Ray actors, journal file.

Whole command (issue 20): ``policysearch run configs/jobs/quickstart.yaml`` as a user types it
(fresh process, the job's 120 trials, a new journal each time), with ``--executor serial``,
``--executor ray`` and ``--executor auto``, timed from the process's start to its exit:
Python's and Ray's start-up, the preflight and the front at the end included; next to it, the
search phase of the same job run in process (from the executor up to the last tell, Ray
started beforehand). Each figure is the median of ``--repeats`` runs (3 by default): the machine
is shared with other jobs, and the median resists their bursts.

The driver overhead is measured on ``benchmark: zdt1`` (an evaluation costs microseconds) with
the random sampler, whose proposals cost almost nothing either: ``(policysearch serial time -
plain Optuna in-memory time) / trials``, the cost of the driver, its trial records and durable
storage per trial.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import optuna
from _results import save  # bench/ is the script's folder: on sys.path
from optuna.storages import JournalStorage
from optuna.storages.journal import JournalFileBackend

from policysearch.jobs.config import JobConfig, job_from_mapping, load_job
from policysearch.jobs.samplers import make_sampler
from policysearch.jobs.space import distributions
from policysearch.run.driver import RunOptions, run_search
from policysearch.run.executors import make_executor, ray_local

HERE = Path(__file__).resolve().parent
QUICKSTART = HERE.parent / "configs" / "jobs" / "quickstart.yaml"


def plain_optuna(job: JobConfig, trials: int, storage: Any) -> float:
    """Seconds for a plain Optuna ask/tell loop over ``trials`` evaluations."""
    study = optuna.create_study(
        directions=[o.direction for o in job.objectives],
        sampler=make_sampler(job.sampler),
        storage=storage,
    )
    dists = distributions(job)
    start = time.perf_counter()
    for _ in range(trials):
        trial = study.ask(dists)
        metrics = job.problem.evaluate({**job.fixed, **trial.params})
        trial.set_user_attr("metrics", metrics)
        for constraint in job.constraints:
            trial.set_constraint(str(constraint), constraint.violation(metrics[constraint.metric]))
        study.tell(trial, [metrics[o.metric] for o in job.objectives])
    return time.perf_counter() - start


def policysearch_run(job: JobConfig, trials: int, executor: str, workers: int) -> float:
    """Seconds of ``run_search``'s search phase (after the executor is up), journal file."""
    marks: dict[str, float] = {}

    def timed(*args: Any) -> Any:
        made = make_executor(*args)
        marks["up"] = time.perf_counter()
        return made

    with tempfile.TemporaryDirectory() as folder:
        opts = RunOptions(
            trials=trials,
            workers=workers,
            executor=executor,
            storage=os.path.join(folder, "bench.journal"),
            study_name="bench",
            seed=0,
        )
        with open(os.devnull, "w") as quiet:
            run_search(job, opts, out=quiet, executor_factory=timed)
        return time.perf_counter() - marks["up"]


def median_of(repeats: int, run: Callable[[], float]) -> float:
    """The median of ``repeats`` timings (the machine is shared: a neighbour's burst is one)."""
    return statistics.median(run() for _ in range(repeats))


def whole_command(executor: str) -> float:
    """Seconds of ``policysearch run`` of the quick-start job, as a fresh process."""
    with tempfile.TemporaryDirectory() as folder:
        env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", "PYTHONWARNINGS": "ignore"}
        env.pop("RAY_ADDRESS", None)
        # auto decides on the built-in figure of Ray's start-up, the same for every repeat
        env["XDG_CACHE_HOME"] = os.path.join(folder, "cache")
        command = [sys.executable, "-m", "policysearch", "run", str(QUICKSTART), "--quiet"]
        start = time.perf_counter()
        subprocess.run(
            [*command, "--executor", executor, "--storage", "q.journal"],
            cwd=folder,
            env=env,
            capture_output=True,
            check=True,
            timeout=900,
        )
        return time.perf_counter() - start


def journal_storage(folder: str) -> JournalStorage:
    return JournalStorage(JournalFileBackend(os.path.join(folder, f"{time.time_ns()}.journal")))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trials", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", default=str(HERE / "results" / "throughput.json"))
    args = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    import ray

    job = load_job(QUICKSTART)
    n, repeats = args.trials, args.repeats
    whole = {e: median_of(repeats, lambda e=e: whole_command(e)) for e in ("serial", "ray", "auto")}
    search_120 = {
        "serial": median_of(repeats, lambda: policysearch_run(job, job.trials, "serial", 1)),
    }
    seconds: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as folder:
        seconds["optuna_memory"] = median_of(repeats, lambda: plain_optuna(job, n, None))
        seconds["optuna_journal"] = median_of(
            repeats, lambda: plain_optuna(job, n, journal_storage(folder))
        )
    seconds["serial"] = median_of(repeats, lambda: policysearch_run(job, n, "serial", 1))
    start = time.perf_counter()
    started = ray_local.start(ray, 2)  # as a run starts its private Ray
    ray_start = time.perf_counter() - start
    try:
        for workers in (1, 2):
            seconds[f"ray_{workers}"] = median_of(
                repeats, lambda w=workers: policysearch_run(job, n, "ray", w)
            )
        search_120["ray"] = median_of(
            repeats, lambda: policysearch_run(job, job.trials, "ray", job.workers)
        )
    finally:
        ray_local.stop(ray, started)
    rates = {name: n / s for name, s in seconds.items()}

    zdt1 = job_from_mapping(
        {"benchmark": "zdt1", "objectives": ["f1", "f2"], "sampler": "random"},
        source="zdt1",
        base_dir=HERE,
        default_name="zdt1",
    )
    zdt_n = 2000
    zdt_plain = median_of(repeats, lambda: plain_optuna(zdt1, zdt_n, None))
    zdt_serial = median_of(repeats, lambda: policysearch_run(zdt1, zdt_n, "serial", 1))
    overhead_ms = (zdt_serial - zdt_plain) / zdt_n * 1e3

    base = rates["optuna_journal"]
    figures = {
        "benchmark": "throughput",
        "work": f"quickstart space on thread-churn-20, NSGA-II seed 0, {n} trials",
        "trials_per_s": {k: round(v, 1) for k, v in rates.items()},
        "ratio_to_optuna_journal": {k: round(v / base, 2) for k, v in rates.items()},
        "ratio_to_optuna_memory": {
            k: round(v / rates["optuna_memory"], 2) for k, v in rates.items()
        },
        "ray_start_s": round(ray_start, 2),
        "statistic": f"median of {repeats} runs (a machine shared with other jobs)",
        "quickstart_whole_command_s": {k: round(v, 2) for k, v in whole.items()},
        "quickstart_whole_command_ratio_to_serial": {
            k: round(v / whole["serial"], 2) for k, v in whole.items()
        },
        "quickstart_search_phase_s": {k: round(v, 3) for k, v in search_120.items()},
        "zdt1_driver_overhead_ms_per_trial": round(overhead_ms, 3),
        "zdt1_trials_per_s": {
            "optuna_memory": round(zdt_n / zdt_plain, 1),
            "serial_journal": round(zdt_n / zdt_serial, 1),
        },
    }
    save(figures, args.out)


if __name__ == "__main__":
    main()
