"""Time ``simulate()``: every built-in scenario, and how the cost grows with tasks.

Run: ``python bench/bench_simulate.py``. Pins itself to one core, then prints and writes
``bench/results/simulate.json``:

* per built-in scenario, the median wall time of ``simulate()`` over ``--repeats`` calls, for
  the baseline and for random policies (issue 3's targets: under 20 ms each, and the
  1M-thread scenario under 200 ms);
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

from objectives import (
    Policy,
    Scenario,
    baseline,
    builtin_scenarios,
    knob_catalogue,
    load_scenario,
    simulate,
)

HERE = Path(__file__).resolve().parent


def _median_ms(policy: Policy, scenario: Scenario, repeats: int) -> float:
    simulate(policy, scenario, 0)  # warm caches and imports
    times = []
    for seed in range(repeats):
        start = time.perf_counter()
        simulate(policy, scenario, seed)
        times.append(time.perf_counter() - start)
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
        "time_ms_by_resident_tasks": tasks,
        "resident_tasks_growth": tasks[4_000_000] / tasks[1_000],
        "time_ms_by_churn_processes": churn,
        "churn_growth": churn[128] / churn[1],
        "targets": {"every_builtin_scenario_ms": 20.0, "x86-256cpu-1m-threads_ms": 200.0},
    }
    worst = max(max(v.values()) for v in scenarios.values())
    print(f"worst median over scenarios and policies: {worst:.2f} ms (target < 20 ms)")
    print(f"4M / 1k resident tasks: x{result['resident_tasks_growth']:.2f} time for x4000 tasks")
    print(f"128 / 1 churners: x{result['churn_growth']:.2f} time for x128 churners")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"saved {args.out}")


if __name__ == "__main__":
    main()
