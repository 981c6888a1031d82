"""Time the front and its hypervolume over a study of 100,000 trials.

Run: ``python bench/bench_front.py [--trials 100000]``. Builds (once, cached under
``bench/results/``, not committed) a quick-start study of that many trials with realistic
metrics: random PID policies simulated on ``thread-churn-20``, stored in a journal file and in
SQLite (with ``--sqlite``). Then it prints and saves to ``bench/results/front.json``:

* ``compute_s``: the front, its hypervolume and the automatic reference point from the trials
  in memory (``policysearch.analysis.front.summarise`` after the trials are loaded); the target is
  under 1 second;
* ``load_s``: reading the study's trials from storage (Optuna's replay of the journal, or the
  SQL queries), which the ``front`` command pays too;
* ``cli_s``: the whole ``policysearch front STUDY`` command in a fresh process, both storages.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import optuna
from optuna.distributions import CategoricalDistribution, IntDistribution
from optuna.trial import TrialState, create_trial

from objectives import baseline, load_scenario, simulate
from policysearch.analysis.front import summarise
from policysearch.jobs.config import load_job
from policysearch.run.storage import open_storage
from policysearch.run.study_meta import read, record

HERE = Path(__file__).resolve().parent
JOB = HERE.parent / "configs" / "jobs" / "quickstart.yaml"


def _distinct_outcomes(count: int, rng: np.random.Generator) -> list[tuple[dict, dict]]:
    """Simulate ``count`` random PID policies (params, metrics)."""
    scenario = load_scenario("thread-churn-20")
    widths = [0, 8, 16, 32, 64, 128, 250, 512, 1024, 4096]
    outcomes = []
    for _ in range(count):
        params = {
            "pid.lock_mode": str(rng.choice(["once", "twice"])),
            "pid.range_width": int(rng.choice(widths)),
            "pid.range_share_cpus": int(rng.integers(1, 33)),
            "pid.refill_batch": int(rng.integers(1, 9)),
        }
        metrics = simulate(baseline().with_knobs(params), scenario, 0).as_dict()
        outcomes.append((params, metrics))
    return outcomes


def build(storage_url: str, trials: int) -> None:
    """Create the study ``bench`` holding ``trials`` finished trials."""
    job = load_job(JOB)
    study = optuna.create_study(
        study_name="bench",
        storage=open_storage(storage_url),
        directions=[o.direction for o in job.objectives],
    )
    record(study, job, 0)
    rng = np.random.default_rng(0)
    outcomes = _distinct_outcomes(2000, rng)
    dists = {
        "pid.lock_mode": CategoricalDistribution(["once", "twice"]),
        "pid.range_width": CategoricalDistribution([0, 8, 16, 32, 64, 128, 250, 512, 1024, 4096]),
        "pid.range_share_cpus": IntDistribution(1, 32),
        "pid.refill_batch": IntDistribution(1, 8),
    }
    batch = []
    for i in range(trials):
        params, metrics = outcomes[int(rng.integers(len(outcomes)))]
        # Jitter so that the front is not just the 2000 distinct outcomes.
        noise = 1.0 + 0.01 * rng.standard_normal()
        values = [metrics[o.metric] * noise for o in job.objectives]
        attrs = {**metrics, **{o.metric: v for o, v in zip(job.objectives, values, strict=True)}}
        violation = [c.violation(attrs[c.metric]) for c in job.constraints]
        batch.append(
            create_trial(
                params=params,
                distributions=dists,
                values=values,
                user_attrs=attrs,
                system_attrs={"constraints": violation},
                state=TrialState.COMPLETE,
            )
        )
        if len(batch) == 5000 or i == trials - 1:
            study.add_trials(batch)
            batch = []


def measure(storage_url: str) -> dict[str, float]:
    """Load, compute and CLI timings for one storage."""
    start = time.perf_counter()
    study = optuna.load_study(study_name="bench", storage=open_storage(storage_url))
    info = read(study, storage_url)
    trials = study.get_trials(deepcopy=False)
    load_s = time.perf_counter() - start
    start = time.perf_counter()
    summary = summarise(study, info)
    compute_s = time.perf_counter() - start
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "policysearch", "front", "bench", "--storage", storage_url],
        check=True,
        capture_output=True,
        env=env,
    )
    cli_s = time.perf_counter() - start
    return {
        "trials": len(trials),
        "front_size": len(summary.front),
        "hypervolume": summary.hypervolume,
        "load_s": load_s,
        "compute_s": compute_s,
        "cli_s": cli_s,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trials", type=int, default=100_000)
    parser.add_argument(
        "--sqlite", action="store_true", help="also measure SQLite (slow to build and to load)"
    )
    args = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    cache = HERE / "results" / "cache"
    cache.mkdir(parents=True, exist_ok=True)
    storages = {"journal": str(cache / f"front-{args.trials}.journal")}
    if args.sqlite:
        storages["sqlite"] = f"sqlite:///{cache / f'front-{args.trials}.db'}"
    results = {}
    for kind, url in storages.items():
        path = Path(url.removeprefix("sqlite:///"))
        if not path.exists():
            start = time.perf_counter()
            build(url, args.trials)
            print(
                f"built the {kind} study of {args.trials:,} trials in "
                f"{time.perf_counter() - start:.1f} s"
            )
        results[kind] = measure(url)
        r = results[kind]
        print(
            f"{kind:8s} {r['trials']:,} trials, front of {r['front_size']}: "
            f"front + hypervolume {r['compute_s']:.3f} s (target < 1 s); "
            f"loading the trials {r['load_s']:.2f} s; whole `front` command {r['cli_s']:.2f} s"
        )
    out = HERE / "results" / "front.json"
    out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"saved {out}")


if __name__ == "__main__":
    main()
