"""Time ``objectives.engine.contention.solve`` and measure its tail and its approximate MVA.

Run: ``python bench/bench_contention.py``. Pins itself to one core, then prints and writes
``bench/results/contention.json``:

* ``scenario_loops``: the median wall time of ``solve()`` on the creation loop of every
  built-in scenario (baseline policy, plus PID ranges W=250 on thread-churn-20), captured from
  ``objectives.simulate`` (issue 11's target: at most 10 ms each);
* ``churners``: for N = 20, 256, 4096, 65536 churners on seed 003's loop shape (one global
  lock taken twice back to back, then freed), the time of exact MVA, of Bard-Schweitzer MVA and
  of the whole ``solve()`` (target: 65,536 churners in at most 100 ms), and the approximation's
  error against exact MVA;
* ``knee_error``: the worst Bard-Schweitzer error over loops whose saturation knee sweeps
  0.2 N..5 N, per N, against the documented bound ``0.36 / sqrt(N)``;
* ``p99_seed_spread``: thread-churn-20 with PID ranges, p99 over seeds 0-19 with the sampled
  tail of the original code (``git show fe58b94:objectives/contention.py``) and now (issue 9);
* ``des``: the model against the event simulation on the test loops (``--no-des`` skips it).
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

import objectives.engine.creation
from objectives import baseline, builtin_scenarios, load_scenario, simulate
from objectives.engine.contention import (
    EXACT_MVA_MAX_CHURNERS,
    Acquisition,
    ClosedLoop,
    _mva_exact,
    _mva_schweitzer,
    _tables,
    solve,
)
from objectives.engine.contention_des import simulate_loop

HERE = Path(__file__).resolve().parent
ORIGINAL = "fe58b94"  # the commit before issues 9 and 11: sampled tail, exact MVA only


def _median_ms(call: Callable[[], object], repeats: int) -> float:
    call()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return 1000.0 * statistics.median(times)


def _captured_loop(policy, scenario) -> ClosedLoop:
    """The closed loop ``simulate`` builds for ``policy`` on ``scenario``."""
    captured: list[ClosedLoop] = []
    original = objectives.engine.creation.solve_batch

    def spy(loops: list[ClosedLoop]) -> object:
        captured.extend(loops)
        return original(loops)

    objectives.engine.creation.solve_batch = spy
    try:
        simulate(policy, scenario)
    finally:
        objectives.engine.creation.solve_batch = original
    return captured[0]


def _seed003_loop(n: int) -> ClosedLoop:
    return ClosedLoop(
        n,
        20_000,
        (Acquisition("g", 630), Acquisition("g", 280, back_to_back=True), Acquisition("g", 490)),
        {"g": n},
        250,
    )


def _knee_loops(n: int, ratio: float) -> list[ClosedLoop]:
    hold = 20_000 / (n * ratio)
    return [
        ClosedLoop(n, 20_000, (Acquisition("g", hold),), {"g": n}, 0),
        ClosedLoop(n, 20_000, (Acquisition("g", hold * 0.6),), {"g": n}, hold * 0.4),
        ClosedLoop(
            n,
            20_000,
            (
                Acquisition("g", hold / 2),
                Acquisition("g", hold / 4, back_to_back=True),
                Acquisition("r", hold),
            ),
            {"g": n, "r": 8},
            hold / 4,
        ),
        ClosedLoop(
            n,
            20_000,
            (
                Acquisition("r", hold * n / 8),
                Acquisition("r", hold * n / 8, remote=0.5),
                Acquisition("g", hold * 4, rate=1 / 64),
            ),
            {"r": 4, "g": n},
            10,
        ),
        ClosedLoop(
            n,
            20_000,
            (Acquisition("g", hold * 0.7), Acquisition("p", hold * 3, fork_only=True, rate=2.0)),
            {"g": n, "p": n},
            hold * 0.1,
            fork_fraction=0.1,
            fork_work_ns=50_000,
        ),
    ]


def _original_module():
    source = subprocess.run(
        ["git", "show", f"{ORIGINAL}:objectives/contention.py"],
        cwd=HERE.parent,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    path = Path(tempfile.mkdtemp()) / "contention_original.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("contention_original", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _as_original(module, loop: ClosedLoop):
    acqs = tuple(module.Acquisition(**dataclasses.asdict(a)) for a in loop.acquisitions)
    fields = {f.name: getattr(loop, f.name) for f in dataclasses.fields(loop)}
    return module.ClosedLoop(**{**fields, "acquisitions": acqs})


def _spread(values: list[float]) -> dict[str, float]:
    return {"min_ns": min(values), "max_ns": max(values), "spread_ns": max(values) - min(values)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=21)
    parser.add_argument("--no-des", action="store_true", help="skip the event simulation")
    parser.add_argument("--out", default=str(HERE / "results" / "contention.json"))
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    original = _original_module()
    out: dict[str, object] = {
        "machine": platform.platform(),
        "python": platform.python_version(),
        "exact_mva_max_churners": EXACT_MVA_MAX_CHURNERS,
    }

    cases = {name: (baseline(), load_scenario(name)) for name in builtin_scenarios()}
    ranges = baseline().with_knobs({"pid.range_width": 250})
    cases["thread-churn-20 (pid ranges W=250)"] = (ranges, load_scenario("thread-churn-20"))
    out["scenario_loops"] = {}
    for name, (policy, scenario) in cases.items():
        loop = _captured_loop(policy, scenario)
        slow = _as_original(original, loop)
        row = {
            "churners": loop.churners,
            "solve_ms": _median_ms(lambda loop=loop: solve(loop), args.repeats),
            "original_solve_ms": _median_ms(
                lambda slow=slow: original.solve(slow, np.random.default_rng(0)),
                args.repeats,
            ),
        }
        out["scenario_loops"][name] = row
        print(
            f"{name:38s} N={row['churners']:4d}  solve {row['solve_ms']:6.2f} ms"
            f"  (original {row['original_solve_ms']:6.2f} ms)"
        )

    out["churners"] = {}
    for n in (20, 256, 4_096, 65_536):
        loop = _seed003_loop(n)
        t = _tables(loop, ["g"])
        exact, approx = _mva_exact(t, n), _mva_schweitzer(t, n)
        few = max(3, args.repeats // 4) if n > 4_096 else args.repeats
        row = {
            "exact_mva_ms": _median_ms(lambda t=t, n=n: _mva_exact(t, n), few),
            "approx_mva_ms": _median_ms(lambda t=t, n=n: _mva_schweitzer(t, n), args.repeats),
            "solve_ms": _median_ms(lambda loop=loop: solve(loop), few),
            "approx_throughput_error": approx.throughput / exact.throughput - 1.0,
        }
        if n <= 4_096:
            slow = _as_original(original, loop)
            row["original_solve_ms"] = _median_ms(
                lambda slow=slow: original.solve(slow, np.random.default_rng(0)), few
            )
        out["churners"][n] = row
        print(
            f"N={n:6d}  exact MVA {row['exact_mva_ms']:8.3f} ms  Bard-Schweitzer "
            f"{row['approx_mva_ms']:6.3f} ms  solve {row['solve_ms']:7.3f} ms  error "
            f"{row['approx_throughput_error']:+.2e}"
        )

    out["knee_error"] = {}
    for n in (64, 128, 256, 512, 1_024, 2_048, 4_096):
        worst_low, worst_high = 0.0, 0.0
        for ratio in np.geomspace(0.2, 5.0, 41):
            for loop in _knee_loops(n, float(ratio)):
                t = _tables(loop, sorted(loop.sharers))
                error = _mva_schweitzer(t, n).throughput / _mva_exact(t, n).throughput - 1.0
                worst_low, worst_high = min(worst_low, error), max(worst_high, error)
        out["knee_error"][n] = {
            "most_pessimistic": worst_low,
            "most_optimistic": worst_high,
            "bound": 0.36 / math.sqrt(n),
        }
        print(
            f"knee sweep N={n:5d}: error {worst_low:+.4f} .. {worst_high:+.2e}"
            f"  (bound +-{0.36 / math.sqrt(n):.4f})"
        )

    churn = load_scenario("thread-churn-20")
    loop = _captured_loop(ranges, churn)
    before = [
        original.solve(_as_original(original, loop), np.random.default_rng(s)).latency_p99_ns
        for s in range(20)
    ]
    after = [simulate(ranges, churn)["clone_latency_p99_ns"]]  # the model draws nothing
    out["p99_seed_spread"] = {
        "sampled_before": _spread(before),
        "deterministic_after": _spread(after),
    }
    print(
        f"p99 over seeds 0-19, thread-churn-20 W=250: before {min(before):.0f}..{max(before):.0f}"
        f" ns, after {min(after):.0f}..{max(after):.0f} ns"
    )

    if not args.no_des:
        from tests.objectives.test_contention import LOOPS

        out["des"] = {}
        for name, loop in sorted(LOOPS.items()):
            model = solve(loop)
            des = simulate_loop(loop, 60_000, np.random.default_rng(1))
            row = {
                "throughput_error": model.throughput_per_s / des.throughput_per_s - 1.0,
                "mean_error": model.latency_mean_ns / des.latency_mean_ns - 1.0,
                "p99_error": model.latency_p99_ns / des.latency_p99_ns - 1.0,
            }
            out["des"][name] = row
            print(
                f"vs DES (60k ops) {name:38s} throughput {row['throughput_error']:+.2%}"
                f"  mean {row['mean_error']:+.2%}  p99 {row['p99_error']:+.2%}"
            )

    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
