"""What a private Ray costs before and after the trials: before and after issue 20's cuts.

Run: ``python bench/bench_ray_startup.py [--repeats 3] [--workers 2]``. Prints the figures and
writes them to ``bench/results/ray_startup.json``. Each measurement is a fresh process (Ray
is imported and started once per process), alternating the two setups, and the medians are
reported (the machine is shared; a median of three resists a neighbour's burst):

* ``before``: the ``ray.init`` the runs made until issue 20 (``num_cpus`` = every CPU, the
  full dashboard agent when ``ray[default]`` is installed, metrics on), then the workers;
* ``now``: ``policysearch``'s Ray executor as a run starts it (``ray_local.start``: ``num_cpus``
  = workers, the minimal dashboard agent, no metrics; workers import ``ray_worker`` only).

Phases: ``import_s`` (``import ray`` in the driver), ``ready_s`` (from before the import to
every worker placed: what ``Ray ready in`` prints), ``stop_s`` (shut-down and reaping).
``DEFAULT_START_S``/``DEFAULT_STOP_S`` in ``policysearch/run/executors/ray_startup.py`` come
from the ``now`` medians.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from _results import save  # bench/ is the script's folder: on sys.path

HERE = Path(__file__).resolve().parent

CHILD = r"""
import json, os, sys, time
os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
mode, workers = sys.argv[1], int(sys.argv[2])
from policysearch.jobs.config import load_job
job = load_job(sys.argv[3])
problems = {job.problem.name: job.problem}
began = time.perf_counter()
import ray
imported = time.perf_counter()
if mode == "now":
    from policysearch.run.executors import ExecutorOptions, make_executor
    executor = make_executor("ray", problems, ExecutorOptions(workers=workers))
    ready = time.perf_counter()
    executor.close()
else:
    import logging
    from policysearch.run.executors import ray_local
    from policysearch.run.executors.ray_worker import Evaluator
    before = set(ray_local._descendants())
    with ray_local._on_loopback(ray):
        ray.init(address="local", num_cpus=max(workers, os.cpu_count() or 1),
                 include_dashboard=False, log_to_driver=False,
                 logging_level=logging.ERROR, configure_logging=True)
    started = ray_local.started_since(before)
    actor = ray.remote(num_cpus=1, scheduling_strategy="SPREAD")(Evaluator)
    ref = ray.put(problems)
    actors = [actor.remote(ref) for _ in range(workers)]
    ray.get([a.node_id.remote() for a in actors])
    ready = time.perf_counter()
    for a in actors:
        ray.kill(a)
    ray_local.stop(ray, started | ray_local.started_since(before))
stopped = time.perf_counter()
print(json.dumps({"import_s": imported - began, "ready_s": ready - began,
                  "stop_s": stopped - ready}))
"""


def measure(mode: str, workers: int, job: Path) -> dict[str, float]:
    """One fresh process: its phases in seconds."""
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "XDG_CACHE_HOME": cache, "PYTHONWARNINGS": "ignore"}
        env.pop("RAY_ADDRESS", None)
        done = subprocess.run(
            [sys.executable, "-c", CHILD, mode, str(workers), str(job)],
            env=env,
            capture_output=True,
            text=True,
            check=True,
            timeout=600,
        )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", default=str(HERE / "results" / "ray_startup.json"))
    args = parser.parse_args()
    job = HERE.parent / "configs" / "jobs" / "quickstart.yaml"
    runs: dict[str, list[dict[str, float]]] = {"before": [], "now": []}
    for _ in range(args.repeats):
        for mode in runs:
            runs[mode].append(measure(mode, args.workers, job))
            print(mode, {k: round(v, 2) for k, v in runs[mode][-1].items()}, flush=True)
    medians = {
        mode: {k: round(statistics.median(r[k] for r in found), 2) for k in found[0]}
        for mode, found in runs.items()
    }
    figures = {
        "benchmark": "ray_startup",
        "workers": args.workers,
        "statistic": f"median of {args.repeats} fresh processes per setup, alternating",
        "median_s": medians,
        "runs_s": {m: [{k: round(v, 2) for k, v in r.items()} for r in f] for m, f in runs.items()},
    }
    save(figures, args.out)


if __name__ == "__main__":
    main()
