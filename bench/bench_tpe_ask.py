"""TPE's own cost per trial as a study grows, without the driver: in memory, ask and tell.

Run: ``python bench/bench_tpe_ask.py [--sizes 1500 5000 10000]``.

The ``tpe`` sampler of a job (``WindowedTPESampler``, multivariate, default window) in an
in-memory Optuna study, ask/tell over the zdt1 function (``configs/jobs/benchmark-zdt1.yaml``'s
problem), up to the largest size. The cost per trial at size S is the median process time of
ask+tell over the 300 trials before S. Next to ``bench_scale.py`` (the whole driver: records,
journal, commit), it tells the sampler's part from the rest. Prints a line and writes
``bench/results/tpe_ask.json``.
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
from policysearch.jobs.tpe import WindowedTPESampler

HERE = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1500, 5000, 10_000])
    parser.add_argument("--out", type=Path, default=HERE / "results" / "tpe_ask.json")
    args = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    bench = BENCHMARKS["zdt1"]
    dists = {name: FloatDistribution(0.0, 1.0) for name in bench.variable_names}
    study = optuna.create_study(
        directions=["minimize"] * 2, sampler=WindowedTPESampler(seed=0, multivariate=True)
    )
    costs: list[float] = []
    load_start = os.getloadavg()[0]
    for _ in range(max(args.sizes)):
        start = time.process_time()
        trial = study.ask(dists)
        x = np.array([trial.params[name] for name in bench.variable_names])
        study.tell(trial, bench.function(x).tolist())
        costs.append(time.process_time() - start)
    per_trial = {
        str(s): round(1000 * statistics.median(costs[max(0, s - 300) : s]), 3) for s in args.sizes
    }
    figures = {
        "per_trial_cpu_ms": per_trial,
        "what": "WindowedTPESampler (window 500), in-memory ask+tell over zdt1, median of the "
        "300 trials before each size",
        "cpus": os.cpu_count(),
        "load_1min": [load_start, os.getloadavg()[0]],
        "python": platform.python_version(),
        "optuna": optuna.__version__,
    }
    print(
        "tpe ask+tell in memory, CPU ms per trial at "
        + "  ".join(f"{int(s):,}: {c:.2f}" for s, c in per_trial.items()),
        flush=True,
    )
    args.out.parent.mkdir(exist_ok=True)
    args.out.write_text(json.dumps(figures, indent=2) + "\n")
    print(f"saved {args.out}")


if __name__ == "__main__":
    main()
