"""Time opening a study of 100,000 trials and computing its front and hypervolume.

Run: ``python bench/bench_front.py [--trials 100000]``. Builds (once, cached under
``bench/results/``, not committed) a quick-start study of that many trials with realistic
metrics, in the layout ``policysearch run`` writes (one record per finished trial, every metric
in one attribute): random PID policies simulated on ``thread-churn-20``, stored in a journal
file and in SQLite (with ``--sqlite``). Then it prints and saves to ``bench/results/front.json``:

* ``open_s``: the study's view (trials, front, knee, hypervolume) as the reading commands open
  it (``policysearch.analysis.opening.open_view``: a column-wise scan of a journal file);
* ``optuna_load_s`` and ``optuna_view_s``: the alternative, Optuna's own replay of the storage
  (``optuna.load_study`` + ``get_trials``), then the view from those trials;
* ``cli_s``: the whole ``policysearch front STUDY`` command in a fresh process, median of
  three runs (issue 9's
  target: at most 2 s for 100,000 trials), and ``speedup``: Optuna's load + view over
  ``open_s``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import optuna
from optuna.distributions import CategoricalDistribution, IntDistribution
from optuna.trial import TrialState, create_trial

from objectives import baseline, load_scenario, simulate
from policysearch.analysis.opening import open_view
from policysearch.analysis.view import study_view
from policysearch.jobs.config import load_job
from policysearch.run import records
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
        metrics = simulate(baseline().with_knobs(params), scenario).as_dict()
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
        stored = {**metrics, **{o.metric: v for o, v in zip(job.objectives, values, strict=True)}}
        named = {f"constraints:{c}": c.violation(stored[c.metric]) for c in job.constraints}
        # the layout ``policysearch.run.records`` writes: every metric in one attribute
        attrs = {records.METRICS_ATTR: stored, records.SEED_ATTR: 0}
        batch.append(
            create_trial(
                params=params,
                distributions=dists,
                values=values,
                user_attrs=attrs,
                system_attrs=named,  # ``Trial.set_constraint(text, violation)``'s keys
                state=TrialState.COMPLETE,
            )
        )
        if len(batch) == 5000 or i == trials - 1:
            study.add_trials(batch)
            batch = []


def measure(storage_url: str) -> dict[str, float]:
    """Open, Optuna-load and CLI timings for one storage."""
    start = time.perf_counter()
    view, _ = open_view("bench", storage_url)
    open_s = time.perf_counter() - start
    start = time.perf_counter()
    study = optuna.load_study(study_name="bench", storage=open_storage(storage_url))
    info = read(study, storage_url)
    study.get_trials(deepcopy=False)
    optuna_load_s = time.perf_counter() - start
    start = time.perf_counter()
    through_optuna = study_view(study, info)
    optuna_view_s = time.perf_counter() - start
    assert through_optuna.hypervolume == view.hypervolume
    assert through_optuna.front == view.front
    del study, through_optuna
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    runs = []
    for _ in range(3):
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "policysearch", "front", "bench", "--storage", storage_url],
            check=True,
            capture_output=True,
            env=env,
        )
        runs.append(time.perf_counter() - start)
    cli_s = statistics.median(runs)
    return {
        "trials": view.complete + view.failed + view.unfinished,
        "front_size": len(view.front),
        "hypervolume": view.hypervolume,
        "open_s": open_s,
        "optuna_load_s": optuna_load_s,
        "optuna_view_s": optuna_view_s,
        "cli_s": cli_s,
        "speedup": (optuna_load_s + optuna_view_s) / open_s,
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
            f"{kind:8s} {r['trials']:,} trials, front of {r['front_size']}: opened with front "
            f"and hypervolume in {r['open_s']:.2f} s; through Optuna's replay "
            f"{r['optuna_load_s']:.2f} s + {r['optuna_view_s']:.2f} s (x{r['speedup']:.1f}); "
            f"whole `front` command {r['cli_s']:.2f} s (target <= 2 s)"
        )
    out = HERE / "results" / "front.json"
    out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"saved {out}")


if __name__ == "__main__":
    main()
