"""Does Ray pay for itself on an uncertainty job? Serial against Ray, whole commands.

Run: ``python bench/bench_uncertainty_ray.py [--trials 2000] [--repeats 1] [--job FILE]``.
Runs ``policysearch run bench/jobs/quickstart-uncertain.yaml`` (the quick start with 256
draws of the assumed constants per trial) as a whole command in a subprocess, once with
``--executor serial`` (the job's 2 workers: the same batches, so the same trials) and once
with ``--executor ray --workers 2``, each on a fresh journal,
alternating the two when repeated, and times each command from its start to its exit (Python's
and Ray's start-up, the search, Ray's shut-down: what a user waits for). Prints the figures
and the ratio ``serial / ray`` (above 1: Ray is faster) and writes them to
``bench/results/uncertainty_ray.json``, with the machine's load average before each command
and its 1, 5 and 15 minute load averages at its end (the machine is shared: a figure taken
under load says so, and a ratio of two runs under different loads is no figure).

It then asks ``executor: auto`` what it would pick for the same job (``run.executor_choice``
on the job's own preflight timing, as a run would) and records its line.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
JOB = REPO / "bench" / "jobs" / "quickstart-uncertain.yaml"

AUTO_CHILD = r"""
import sys
from policysearch.jobs.config import load_job
from policysearch.jobs.samplers import in_flight
from policysearch.run import preflight
from policysearch.run.executor_choice import choose
job = load_job(sys.argv[1])
trials, workers = int(sys.argv[2]), int(sys.argv[3])
_, batch = in_flight(job.sampler, workers, heavy=job.plan is not None)
timed = preflight.sample(job, 0, preflight.PREFLIGHT_POINTS, batch)
kind, choice = choose(job, requested="auto", address=None, workers=workers,
                      trials_left=trials, seed=0, batch=batch, timed=timed)
print(choice.line)
"""


def _command(job: Path, trials: int, executor: str, workers: int, journal: Path) -> list[str]:
    # serial keeps the job's workers (2): the same batches as Ray's, so both runs give the same
    # trials (the executor contract) and differ only in where they are evaluated
    width = ["--workers", str(workers)] if executor == "ray" else []
    return [
        sys.executable,
        "-m",
        "policysearch",
        "run",
        str(job),
        "--trials",
        str(trials),
        "--executor",
        executor,
        *width,
        "--storage",
        str(journal),
        "--study",
        f"bench-{executor}",
        "--seed",
        "0",
    ]


def _timed(cmd: list[str], cwd: Path) -> float:
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", "PYTHONWARNINGS": "ignore"}
    began = time.perf_counter()
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    took = time.perf_counter() - began
    if done.returncode != 0:
        sys.exit(f"{' '.join(cmd[3:6])} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--job", type=Path, default=JOB)
    args = parser.parse_args()
    runs: dict[str, list[float]] = {"serial": [], "ray": []}
    loads: dict[str, list[float]] = {"serial": [], "ray": []}
    after: dict[str, list[list[float]]] = {"serial": [], "ray": []}  # 1, 5, 15 min at its end
    with tempfile.TemporaryDirectory() as tmp:
        for repeat in range(args.repeats):
            for executor in ("serial", "ray") if repeat % 2 == 0 else ("ray", "serial"):
                journal = Path(tmp) / f"{executor}-{repeat}.journal"
                loads[executor].append(round(os.getloadavg()[0], 2))
                took = _timed(
                    _command(args.job, args.trials, executor, args.workers, journal), REPO
                )
                runs[executor].append(took)
                after[executor].append([round(x, 2) for x in os.getloadavg()])
                print(f"{executor:6s} run {repeat + 1}: {took:.1f} s", flush=True)
        auto = subprocess.run(
            [sys.executable, "-c", AUTO_CHILD, str(args.job), str(args.trials), str(args.workers)],
            cwd=tmp,
            capture_output=True,
            text=True,
            check=False,
        )
    serial, ray = statistics.median(runs["serial"]), statistics.median(runs["ray"])
    figures = {
        "job": str(args.job.relative_to(REPO)) if args.job.is_relative_to(REPO) else str(args.job),
        "trials": args.trials,
        "workers": args.workers,
        "serial_s": round(serial, 2),
        "ray_s": round(ray, 2),
        "ray_speedup": round(serial / ray, 3),
        "runs_s": {k: [round(v, 2) for v in vs] for k, vs in runs.items()},
        "load_average_1min_before": loads,
        "load_average_1_5_15min_after": after,
        "auto_choice": auto.stdout.strip() or auto.stderr.strip().splitlines()[-1:],
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
    }
    for key, value in figures.items():
        print(f"{key:26s} {value}")
    out = HERE / "results" / "uncertainty_ray.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(figures, indent=2) + "\n")
    print(f"saved {out}")


if __name__ == "__main__":
    main()
