"""What TPE's window costs in front quality, on benchmark problems with known fronts.

Run: ``python bench/bench_tpe_window.py [--trials 2000] [--seeds 0 1 2] [--windows 200 500]``.

For each benchmark problem (``problems/benchmarks.py``: zdt1, zdt2, zdt3), seed and window,
runs ``policysearch.jobs.tpe.WindowedTPESampler`` (multivariate, as the ``tpe`` sampler of a
job) in an in-memory ask/tell loop over the problem's function, and records the hypervolume of
the front reached, as a share of the true front's (the problem's reference point), at equal
trial counts; "full" is ``window=None``, which proposes exactly what Optuna's own
``TPESampler`` proposes. It also records the median process time per ask+tell over the last
100 trials. Prints a table and writes ``bench/results/tpe_window.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path

import numpy as np
import optuna
from optuna.distributions import FloatDistribution

from objectives.problems.benchmarks import BENCHMARKS
from policysearch.analysis.pareto import hypervolume
from policysearch.jobs.tpe import WindowedTPESampler

HERE = Path(__file__).resolve().parent


def run(problem: str, seed: int, window: int | None, trials: int, marks: list[int]) -> dict:
    """One search: hypervolume share at each mark, median ms per trial at the end."""
    bench = BENCHMARKS[problem]
    true = hypervolume(bench.true_front(20_001), bench.reference)
    dists = {name: FloatDistribution(0.0, 1.0) for name in bench.variable_names}
    sampler = WindowedTPESampler(seed=seed, multivariate=True, window=window)
    study = optuna.create_study(directions=["minimize"] * len(bench.objectives), sampler=sampler)
    points = np.empty((trials, len(bench.objectives)))
    costs, shares = [], {}
    for i in range(trials):
        start = time.process_time()
        trial = study.ask(dists)
        x = np.array([trial.params[name] for name in bench.variable_names])
        points[i] = bench.function(x)
        study.tell(trial, points[i].tolist())
        costs.append(time.process_time() - start)
        if i + 1 in marks:
            shares[i + 1] = round(hypervolume(points[: i + 1], bench.reference) / true, 5)
    return {"share": shares, "ms_per_trial_end": round(1000 * statistics.median(costs[-100:]), 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=2000)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--windows", type=int, nargs="+", default=[200, 500])
    parser.add_argument("--problems", nargs="+", default=["zdt1", "zdt2", "zdt3"])
    parser.add_argument("--out", type=Path, default=HERE / "results" / "tpe_window.json")
    args = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    marks = sorted({m for m in (250, 500, 1000, 2000, 5000, 10000) if m < args.trials})
    marks.append(args.trials)
    windows: list[int | None] = [None, *args.windows]
    results: dict = {
        "trials": args.trials,
        "seeds": args.seeds,
        "cpus": os.cpu_count(),
        "load_1min": os.getloadavg()[0],
        "python": platform.python_version(),
        "optuna": optuna.__version__,
        "runs": {},
    }
    for problem in args.problems:
        for window in windows:
            label = "full" if window is None else str(window)
            runs = [run(problem, s, window, args.trials, marks) for s in args.seeds]
            summary = {
                str(m): round(statistics.median(r["share"][m] for r in runs), 5) for m in marks
            }
            cost = statistics.median(r["ms_per_trial_end"] for r in runs)
            results["runs"][f"{problem}/{label}"] = {
                "per_seed": runs,
                "median_share": summary,
                "ms_per_trial_end": cost,
            }
            shares = "  ".join(f"{m}: {summary[str(m)]:.4f}" for m in marks)
            print(
                f"{problem:5s} window {label:>5s}  hypervolume share (median of seeds) {shares}"
                f"  | {cost:.2f} ms/trial at the end",
                flush=True,
            )
    args.out.parent.mkdir(exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"saved {args.out}")


if __name__ == "__main__":
    main()
