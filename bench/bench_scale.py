"""Cost per trial as a study grows, resume time, and ``front``/``report`` on the study made.

Run: ``python bench/bench_scale.py [--quick] [--samplers nsga2 tpe] [--sizes 1000 10000 ...]
[--report-study JOURNAL:STUDY] [--no-anchors]``.

1. **Driver cost per trial.** For each sampler, ``policysearch.run.driver.run_search`` runs the
   job ``configs/jobs/benchmark-zdt1.yaml`` (an evaluation costs microseconds, so what is
   measured is the driver: ask, tell, store) serially into a journal file up to the largest
   size. The time of each stored trial is taken where the driver stores it
   (``MirroredStudy.persist``), and the cost per trial at size S is the median over the trials
   just before S (the last 5%, at most 1,000), in process time (CPU: steadier than wall time
   on a loaded machine) and in wall time. TPE stops at ``--tpe-cap`` trials (10,000: a full
   run beyond that is slow, and the issue's target is at 10,000); the output says so.
2. **Resume.** The same job run again on that study to 20 more trials: wall time, or the error.
3. **front / report.** ``policysearch front`` and ``policysearch report`` in a fresh process on
   the largest NSGA-II study (or on ``--report-study JOURNAL:STUDY``, e.g. the 100,000-trial
   study of ``bench/bench_front.py``), three runs each: median wall time, CPU time, and the
   peak resident memory of the process and its helpers (``_memory.TreeMemory``).
4. **Anchors.** Plain Optuna in memory, ask/tell over the same function (NSGA-II population 20,
   multivariate TPE), and rustuna (the Optuna team's Rust port, 0.2.0: ``pip install -e
   '.[bench]'``; without it the bench says so and goes on), per trial at the same sizes, each
   up to its cap (printed). A last table puts policysearch's cost per trial next to theirs at
   each size, with the ratios, all from this one run.

``--quick`` uses sizes 500, 1,000, 2,000. Prints a table and writes
``bench/results/scale.json`` (``scale-quick.json`` with ``--quick``).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import optuna
from _memory import measured  # bench/ is the script's folder: on sys.path

from objectives.problems.benchmarks import BENCHMARKS
from policysearch.jobs.config import load_job
from policysearch.jobs.samplers import SamplerConfig
from policysearch.run import mirror
from policysearch.run.driver import RunOptions, run_search

HERE = Path(__file__).resolve().parent
JOB = HERE.parent / "configs" / "jobs" / "benchmark-zdt1.yaml"
FULL_SIZES = [1000, 10_000, 50_000, 100_000]
QUICK_SIZES = [500, 1000, 2000]
SAMPLERS = {
    "nsga2": SamplerConfig("nsga2", 0, {"population_size": 20}),
    "tpe": SamplerConfig("tpe", 0, {}),
}


def _at(stamps: list[tuple[float, float]], size: int) -> dict[str, float] | None:
    """Median ms per trial (process, wall) over the trials just before ``size``."""
    if len(stamps) < size:
        return None
    span = max(10, min(1000, size // 20))
    window = np.array(stamps[size - span : size])
    steps = np.diff(window, axis=0) * 1000
    return {
        "cpu_ms": round(float(np.median(steps[:, 0])), 3),
        "wall_ms": round(float(np.median(steps[:, 1])), 3),
    }


def driver_run(name: str, sizes: list[int], folder: Path) -> dict:
    """One driver run to the largest size; cost per trial at each size; then a resume."""
    job = replace(load_job(JOB), sampler=SAMPLERS[name])
    storage = str(folder / f"{name}.journal")
    stamps: list[tuple[float, float]] = []
    original = mirror.MirroredStudy.persist

    def stamped(self: mirror.MirroredStudy, frozen: optuna.trial.FrozenTrial) -> None:
        original(self, frozen)
        stamps.append((time.process_time(), time.perf_counter()))

    top = max(sizes)
    opts = RunOptions(
        trials=top,
        workers=1,
        executor="serial",
        storage=storage,
        study_name=name,
        seed=0,
    )
    mirror.MirroredStudy.persist = stamped  # type: ignore[method-assign]
    try:
        start = time.perf_counter()
        run_search(job, opts, out=io.StringIO())
        total = time.perf_counter() - start
    finally:
        mirror.MirroredStudy.persist = original  # type: ignore[method-assign]
    result: dict = {
        "trials": len(stamps),
        "run_s": round(total, 2),
        "per_trial": {str(s): _at(stamps, s) for s in sizes},
        "storage": storage,
    }
    start = time.perf_counter()
    try:
        run_search(job, replace(opts, trials=top + 20), out=io.StringIO())
        result["resume_s"] = round(time.perf_counter() - start, 2)
    except Exception as exc:  # a resume that fails is a figure too
        result["resume_s"] = None
        result["resume_error"] = f"{type(exc).__name__}: {str(exc)[:200]}"
    return result


def _child(command: list[str]) -> tuple[float, float, float]:
    """Wall s, CPU s and peak resident MB of one command in a fresh process (the memory of
    the process and its helpers sampled from ``/proc``: ``os.wait4``'s peak would include
    this large bench process's, inherited through the fork, see ``_memory.py``)."""
    env = {**os.environ, "PYTHONWARNINGS": "ignore", "RAY_USAGE_STATS_ENABLED": "0"}
    run = measured(command, env)
    return run.wall_s, run.cpu_s, run.together_mb


def reading(storage: str, study: str, folder: Path) -> dict:
    """``front`` and ``report`` on a stored study: three runs each (median wall, max memory)."""
    out: dict = {"storage": storage, "study": study}
    base = [sys.executable, "-m", "policysearch"]
    for label, args in (
        ("front", ["front", study, "--storage", storage]),
        ("report", ["report", study, "--storage", storage, "--out", str(folder / "r.html")]),
    ):
        runs = [_child(base + args) for _ in range(3)]
        out[label] = {
            "wall_s": round(statistics.median(r[0] for r in runs), 2),
            "cpu_s": round(statistics.median(r[1] for r in runs), 2),
            "peak_mb": round(max(r[2] for r in runs), 1),
            "runs_wall_s": [round(r[0], 2) for r in runs],
        }
    return out


def _optuna_sampler(name: str) -> optuna.samplers.BaseSampler:
    if name == "nsga2":
        return optuna.samplers.NSGAIISampler(seed=0, population_size=20)
    return optuna.samplers.TPESampler(seed=0, multivariate=True)


def anchor(kind: str, name: str, sizes: list[int]) -> dict:
    """Plain Optuna or rustuna, in memory, ask/tell over zdt1: ms per trial at each size."""
    bench = BENCHMARKS["zdt1"]
    top = max(sizes)
    stamps: list[tuple[float, float]] = []
    if kind == "optuna":
        study = optuna.create_study(directions=["minimize"] * 2, sampler=_optuna_sampler(name))
        space = {v: optuna.distributions.FloatDistribution(0, 1) for v in bench.variable_names}
        for _ in range(top):
            trial = study.ask(space)
            x = np.array([trial.params[v] for v in bench.variable_names])
            study.tell(trial, bench.function(x).tolist())
            stamps.append((time.process_time(), time.perf_counter()))
    else:
        import rustuna

        sampler = getattr(rustuna.samplers, "NSGAIISampler" if name == "nsga2" else "TPESampler")
        study = rustuna.create_study(directions=["minimize"] * 2, sampler=sampler(seed=0))
        for _ in range(top):
            trial = study.ask()
            x = np.array([trial.suggest_float(v, 0.0, 1.0) for v in bench.variable_names])
            study.tell(trial.number, bench.function(x).tolist())
            stamps.append((time.process_time(), time.perf_counter()))
    return {"trials": top, "per_trial": {str(s): _at(stamps, s) for s in sizes}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="sizes 500, 1,000, 2,000")
    parser.add_argument("--sizes", type=int, nargs="+", help="study sizes (default 1k-100k)")
    parser.add_argument("--samplers", nargs="+", default=["nsga2", "tpe"], choices=SAMPLERS)
    parser.add_argument("--tpe-cap", type=int, default=10_000, help="largest TPE study")
    parser.add_argument("--anchor-cap", type=int, default=10_000, help="largest anchor study")
    parser.add_argument("--anchor-tpe-cap", type=int, default=3000, help="largest TPE anchor")
    parser.add_argument("--no-anchors", action="store_true")
    parser.add_argument("--report-study", help="JOURNAL:STUDY to time front/report on")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    sizes = args.sizes or (QUICK_SIZES if args.quick else FULL_SIZES)
    out = args.out or HERE / "results" / ("scale-quick.json" if args.quick else "scale.json")
    figures: dict = {
        "sizes": sizes,
        "job": "configs/jobs/benchmark-zdt1.yaml, serial, 1 worker, journal file",
        "cpus": os.cpu_count(),
        "load_1min_at_start": os.getloadavg()[0],
        "python": platform.python_version(),
        "optuna": optuna.__version__,
        "driver": {},
        "anchors": {},
        "notes": [],
    }
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        folder = Path(tmp)
        for name in args.samplers:
            own = sorted({min(s, args.tpe_cap) for s in sizes}) if name == "tpe" else sizes
            if own != sizes:
                figures["notes"].append(f"tpe stops at {args.tpe_cap:,} trials (--tpe-cap)")
            result = driver_run(name, own, folder)
            figures["driver"][name] = result
            _print_costs(f"policysearch {name}", result)
            resume = result.get("resume_s")
            print(
                f"  resume of {result['trials']:,} trials (+20): "
                + (f"{resume:.2f} s" if resume is not None else result["resume_error"]),
                flush=True,
            )
        if args.report_study:
            storage, study = args.report_study.rsplit(":", 1)
        elif "nsga2" in figures["driver"]:
            storage, study = figures["driver"]["nsga2"]["storage"], "nsga2"
        else:
            storage, study = figures["driver"][args.samplers[0]]["storage"], args.samplers[0]
        figures["reading"] = reading(storage, study, folder)
        for label in ("front", "report"):
            r = figures["reading"][label]
            print(
                f"{label:7s} {study} ({storage}): median {r['wall_s']:.2f} s wall, "
                f"{r['cpu_s']:.2f} s CPU, peak {r['peak_mb']:.0f} MB",
                flush=True,
            )
    if not args.no_anchors:
        kinds = ["optuna"]
        try:
            import rustuna  # noqa: F401

            kinds.append("rustuna")
        except ImportError:
            figures["notes"].append(
                "rustuna is not installed (pip install -e '.[bench]'): no rustuna anchor"
            )
        for kind in kinds:
            for name in args.samplers:
                cap = args.anchor_tpe_cap if name == "tpe" else args.anchor_cap
                if kind == "rustuna" and name == "nsga2":
                    cap = max(sizes)  # flat and fast
                own = sorted({min(s, cap) for s in sizes})
                if own != sizes:
                    figures["notes"].append(f"{kind} {name} anchor stops at {cap:,} trials")
                result = anchor(kind, name, own)
                figures["anchors"][f"{kind}/{name}"] = result
                _print_costs(f"{kind} {name} (in memory)", result)
        _side_by_side(figures, sizes)
    for note in figures["notes"]:
        print(f"note: {note}")
    figures["load_1min_at_end"] = os.getloadavg()[0]
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(figures, indent=2) + "\n")
    print(f"saved {out}")


def _side_by_side(figures: dict, sizes: list[int]) -> None:
    """policysearch's CPU ms per trial next to each anchor's at each size, with the ratio."""
    for name, ours in figures["driver"].items():
        anchors = {
            kind: figures["anchors"][f"{kind}/{name}"]["per_trial"]
            for kind in ("optuna", "rustuna")
            if f"{kind}/{name}" in figures["anchors"]
        }
        print(
            f"{name}: CPU ms per trial, this run (policysearch: driver to a journal file; "
            "anchors: ask/tell in memory)"
        )
        for size in sizes:
            mine = ours["per_trial"].get(str(size))
            if mine is None:
                continue
            cells = [f"{size:>7,}: policysearch {mine['cpu_ms']:.3f}"]
            for kind, costs in anchors.items():
                theirs = costs.get(str(size))
                if theirs is not None:
                    ratio = mine["cpu_ms"] / theirs["cpu_ms"] if theirs["cpu_ms"] else float("inf")
                    cells.append(f"{kind} {theirs['cpu_ms']:.3f} (ours/theirs {ratio:.2f})")
            print("  " + ", ".join(cells))


def _print_costs(label: str, result: dict) -> None:
    costs = "  ".join(
        f"{int(s):,}: {c['cpu_ms']:.2f} ms CPU ({c['wall_ms']:.2f} wall)"
        for s, c in result["per_trial"].items()
        if c is not None
    )
    print(f"{label:26s} per trial at {costs}", flush=True)


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        main()
