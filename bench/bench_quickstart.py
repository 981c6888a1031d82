"""Time the quick-start search: Ray start-up, and the search itself (ask, evaluate, tell).

Run: ``python bench/bench_quickstart.py`` (add ``--executor serial`` to compare). Prints the
figures and writes them to ``bench/results/quickstart_<executor>.json``. The first issue's
target: the search itself (>= 100 trials, 2 Ray workers) under 60 s on a 2-core machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

import optuna

from policysearch.analysis.view import study_view
from policysearch.jobs.config import load_job
from policysearch.run.driver import RunOptions, run_search
from policysearch.run.executors import make_executor
from policysearch.run.study_meta import read

HERE = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--executor", choices=("ray", "serial"), default="ray")
    parser.add_argument("--job", default=str(HERE.parent / "configs" / "jobs" / "quickstart.yaml"))
    args = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    job = load_job(args.job)
    timings: dict[str, float] = {}

    def timed_factory(*factory_args):
        start = time.perf_counter()
        executor = make_executor(*factory_args)
        timings["executor_start_s"] = time.perf_counter() - start
        timings["search_start"] = time.perf_counter()
        return executor

    with tempfile.TemporaryDirectory() as folder:
        opts = RunOptions(
            trials=job.trials,
            workers=job.workers,
            executor=args.executor,
            storage=os.path.join(folder, "bench.journal"),
            study_name="bench",
            seed=job.sampler.seed,
        )
        start = time.perf_counter()
        result = run_search(job, opts, executor_factory=timed_factory)
        total = time.perf_counter() - start
        front = study_view(result.study, read(result.study, opts.storage)).front
    search = total - (timings["search_start"] - start)
    figures = {
        "executor": args.executor,
        "workers": job.workers,
        "trials": result.completed_now,
        "executor_start_s": round(timings["executor_start_s"], 3),
        "search_s": round(search, 3),
        "total_s": round(total, 3),
        "trials_per_s": round(result.completed_now / search, 2),
        "front_size": len(front),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "optuna": optuna.__version__,
    }
    for key, value in figures.items():
        print(f"{key:18s} {value}")
    out = HERE / "results" / f"quickstart_{args.executor}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(figures, indent=2) + "\n")
    print(f"saved {out}")


if __name__ == "__main__":
    main()
