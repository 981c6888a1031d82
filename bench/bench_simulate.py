"""Time ``simulate()``: every built-in scenario, and how the cost grows with tasks.

Run: ``python bench/bench_simulate.py``. Pins itself to one core, then prints and writes
``bench/results/simulate.json``:

* per built-in scenario, the median wall time of ``simulate()`` over ``--repeats`` calls, for
  the baseline and for random policies (issue 9's target: at most 10 ms each, including the
  65,536-churner ``x86-256cpu-1m-threads``);
* ``simulate_batch()`` policies per second on ``thread-churn-20`` (issue 9's target: at least
  2,000 on one core), batches of 20 and 64 policies drawn from the quick-start space
  (``configs/jobs/quickstart.yaml``: the four PID knobs) and from every knob of all four
  families, next to the same policies through ``simulate()`` one by one (against a tree
  without ``simulate_batch``, only that loop is measured: how the "before" figures were taken);
* the median time as resident tasks grow from 1k to 4M, and as churning processes grow from
  1 to the online CPUs, with the ratio of the largest to the smallest (at most linear growth:
  the ratio stays well below the ratio of task counts).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import statistics
import time
from pathlib import Path

import numpy as np

import objectives
from objectives import (
    Policy,
    Scenario,
    baseline,
    builtin_scenarios,
    knob_catalogue,
    load_scenario,
    simulate,
)

QUICKSTART_WIDTHS = (0, 8, 16, 32, 64, 128, 250, 512, 1024, 4096)

HERE = Path(__file__).resolve().parent


def _median_ms(policy: Policy, scenario: Scenario, repeats: int) -> float:
    simulate(policy, scenario)  # warm caches and imports
    times = []
    for _ in range(repeats):
        start = time.process_time()
        simulate(policy, scenario)
        times.append(time.process_time() - start)
    return 1000.0 * statistics.median(times)


def _random_policies(count: int, seed: int) -> list[Policy]:
    rng = np.random.default_rng(seed)
    policies = []
    for _ in range(count):
        values = {}
        for name, knob in knob_catalogue().items():
            if knob.choices is not None:
                values[name] = knob.choices[int(rng.integers(len(knob.choices)))]
            elif knob.type is int:
                values[name] = int(rng.integers(knob.meta["min"], min(knob.meta["max"], 4096) + 1))
            else:
                values[name] = float(rng.uniform(knob.meta["min"], min(knob.meta["max"], 1e5)))
        policies.append(baseline().with_knobs(values))
    return policies


def _quickstart_policies(count: int, seed: int) -> list[Policy]:
    """Points of ``configs/jobs/quickstart.yaml``'s space."""
    rng = np.random.default_rng(seed)
    return [
        baseline().with_knobs(
            {
                "pid.lock_mode": ("once", "twice")[int(rng.integers(2))],
                "pid.range_width": QUICKSTART_WIDTHS[int(rng.integers(len(QUICKSTART_WIDTHS)))],
                "pid.range_share_cpus": int(rng.integers(1, 33)),
                "pid.refill_batch": int(rng.integers(1, 9)),
            }
        )
        for _ in range(count)
    ]


def _policies_per_s(batches: list[list[Policy]], scenario: Scenario, batched: bool) -> float:
    """Best of three passes over ``batches``: policies simulated per second."""
    batch_fn = getattr(objectives, "simulate_batch", None)

    def one(batch: list[Policy]) -> None:
        if batched:
            batch_fn(batch, scenario, 0)
        else:
            for policy in batch:
                simulate(policy, scenario)

    one(batches[0])
    best = 0.0
    for _ in range(3):
        start = time.process_time()
        for batch in batches:
            one(batch)
        best = max(best, sum(map(len, batches)) / (time.process_time() - start))
    return best


def _throughput(repeats: int) -> dict[str, dict[str, float]]:
    scenario = load_scenario("thread-churn-20")
    has_batch = hasattr(objectives, "simulate_batch")
    out: dict[str, dict[str, float]] = {}
    for space, draw in (("quickstart", _quickstart_policies), ("all_families", _random_policies)):
        for size in (20, 64):
            batches = [draw(size, seed=100 + i) for i in range(max(2, repeats // 4))]
            key = f"{space}_batch{size}"
            out[key] = {"simulate_loop_per_s": _policies_per_s(batches, scenario, False)}
            if has_batch:
                out[key]["simulate_batch_per_s"] = _policies_per_s(batches, scenario, True)
            figures = "   ".join(f"{k} {v:8.0f}" for k, v in out[key].items())
            print(f"thread-churn-20 {key:24s} policies/s: {figures}")
    return out


def _with_workload(scenario: Scenario, **changes) -> Scenario:
    return dataclasses.replace(scenario, workload=dataclasses.replace(scenario.workload, **changes))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=31)
    parser.add_argument("--out", default=str(HERE / "results" / "simulate.json"))
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})

    randoms = _random_policies(8, seed=0)
    scenarios = {}
    for name in builtin_scenarios():
        scenario = load_scenario(name)
        base_ms = _median_ms(baseline(), scenario, args.repeats)
        random_ms = max(_median_ms(p, scenario, max(5, args.repeats // 4)) for p in randoms)
        scenarios[name] = {
            "baseline_median_ms": base_ms,
            "random_policy_worst_median_ms": random_ms,
        }
        print(f"{name:34s} baseline {base_ms:6.2f} ms   worst random policy {random_ms:6.2f} ms")

    throughput = _throughput(args.repeats)

    fleet = load_scenario("mixed-fleet-server")
    dynamic = baseline().with_knobs({"stacks.initial_kib": 4, "stacks.reserve_pages": 6})
    tasks = {}
    for resident in (1_000, 10_000, 100_000, 1_000_000, 4_000_000):
        ms = _median_ms(dynamic, _with_workload(fleet, resident_tasks=resident), args.repeats)
        tasks[resident] = ms
        print(f"resident tasks {resident:>9,d}: {ms:6.2f} ms")
    churn = {}
    for processes in (1, 8, 32, 128):
        ms = _median_ms(dynamic, _with_workload(fleet, churn_processes=processes), args.repeats)
        churn[processes] = ms
        print(f"churning processes {processes:>5d}: {ms:6.2f} ms")

    result = {
        "machine": {"python": platform.python_version(), "cpus_used": 1},
        "repeats": args.repeats,
        "scenarios": scenarios,
        "thread-churn-20_policies_per_s": throughput,
        "time_ms_by_resident_tasks": tasks,
        "resident_tasks_growth": tasks[4_000_000] / tasks[1_000],
        "time_ms_by_churn_processes": churn,
        "churn_growth": churn[128] / churn[1],
        "targets": {
            "every_builtin_scenario_ms": 10.0,
            "x86-256cpu-1m-threads_ms": 10.0,
            "thread-churn-20_simulate_batch_per_s": 2000.0,
        },
    }
    worst = max(max(v.values()) for v in scenarios.values())
    print(f"worst median over scenarios and policies: {worst:.2f} ms (target <= 10 ms)")
    big = scenarios["x86-256cpu-1m-threads"]
    print(
        f"x86-256cpu-1m-threads (65,536 churners): baseline {big['baseline_median_ms']:.2f} ms, "
        f"worst random policy {big['random_policy_worst_median_ms']:.2f} ms (target <= 10 ms)"
    )
    print(f"4M / 1k resident tasks: x{result['resident_tasks_growth']:.2f} time for x4000 tasks")
    print(f"128 / 1 churners: x{result['churn_growth']:.2f} time for x128 churners")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"saved {args.out}")


if __name__ == "__main__":
    main()
