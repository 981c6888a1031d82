"""Time ``UncertainProblem.evaluate_batch`` against plain ``simulate`` calls (issue 21).

Run: ``python bench/bench_uncertainty.py [--quick]``. Pins itself to one core, then prints and
writes ``bench/results/uncertainty.json``: for draws 64 and 256 (``--quick``: 16 and 64) of
every assumed constant (``all-assumed``, method lhs, seed 0) and batches of 1, 8 and 64
points of the quick-start space (``configs/jobs/quickstart.yaml``: the four PID knobs on
thread-churn-20), the evaluations per second (points x draws / CPU seconds) of

* ``uncertain``: ``UncertainProblem.evaluate_batch`` (one ``simulate_grid`` per batch: every
  draw's creation loops solved together; statistic and spread included);
* ``plain``: the same (point, draw) evaluations as ``simulate(policy, scenario)`` calls one
  by one, each draw's scenario built once beforehand (what a wrapper without batching would
  do);

and their ratio, measured in the same run; and ``work_cv``: what one draw costs as
``workload.work_cv`` moves over its range (``simulate_batch`` of 8 points on thread-churn-20
with only that constant changed), since a wide work distribution makes the latency tail's
Fourier inversion need more frequencies. CPU time (``time.process_time``), not wall time:
the machine is shared. Each figure is the whole batch evaluated once after a warm-up (the
first call builds the draw scenarios, not timed).

``--before REF`` (default ``main``; ``--before none`` skips it) also prices a trial of
``bench/jobs/quickstart-uncertain.yaml`` (256 lhs draws, seed 0, all-assumed, the 0.9
quantile; calls of 10 points, as the job sends them, after one warm-up call) and the
robustness of a 10-point front (``UncertainProblem.per_draw`` on a fresh problem, what
``front`` evaluates), with this tree's ``objectives``
and with REF's (checked out in a temporary ``git worktree``), in child processes taking
turns (before, after, before, after): CPU seconds per trial and per front point, and their
ratio, in ``trial_cost`` of the JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from objectives import (
    UncertainProblem,
    UncertaintyPlan,
    baseline,
    load_scenario,
    scenario_under,
    simulate,
    simulate_batch,
)
from objectives.problems import ScenarioProblem

HERE = Path(__file__).resolve().parent
WIDTHS = (0, 8, 16, 32, 64, 128, 250, 512, 1024, 4096)  # quickstart.yaml pid.range_width


def quickstart_points(count: int, seed: int) -> list[dict]:
    """Points of ``configs/jobs/quickstart.yaml``'s space."""
    rng = np.random.default_rng(seed)
    return [
        {
            "pid.lock_mode": ("once", "twice")[int(rng.integers(2))],
            "pid.range_width": int(WIDTHS[int(rng.integers(len(WIDTHS)))]),
            "pid.range_share_cpus": int(rng.integers(1, 33)),
            "pid.refill_batch": int(rng.integers(1, 9)),
        }
        for _ in range(count)
    ]


def measure(draws: int, batch: int, points: list[dict]) -> dict[str, float]:
    """Evaluations per CPU second of both ways for one (draws, batch size)."""
    inner = ScenarioProblem(load_scenario("thread-churn-20"))
    problem = UncertainProblem(inner, UncertaintyPlan(draws=draws))
    problem.evaluate_batch(points[:1])  # builds the draw scenarios
    chosen = points[:batch]
    start = time.process_time()
    problem.evaluate_batch(chosen)
    uncertain = time.process_time() - start

    scenarios = [p.scenarios()[0] for p in problem.draw_problems()]
    policies = [inner.policy(p) for p in chosen]
    simulate(policies[0], scenarios[0])
    start = time.process_time()
    for policy in policies:
        for scenario in scenarios:
            simulate(policy, scenario)
    plain = time.process_time() - start
    evaluations = draws * batch
    return {
        "draws": draws,
        "batch": batch,
        "evaluations": evaluations,
        "uncertain_evals_per_s": evaluations / uncertain,
        "plain_simulate_evals_per_s": evaluations / plain,
        "speedup": plain / uncertain,
    }


def work_cv_cost(points: list[dict], seconds: float = 1.0) -> dict[str, float]:
    """Evaluations per CPU second of ``simulate_batch`` (8 points) at several ``work_cv``."""
    base = load_scenario("thread-churn-20")
    policies = [baseline().with_knobs(p) for p in points[:8]]
    out = {}
    for cv in (0.1, 0.3, 0.6, 1.0, 1.5):
        scenario = scenario_under(base, {"workload.work_cv": cv})
        simulate_batch(policies, scenario)
        start, done = time.process_time(), 0
        while time.process_time() - start < seconds:
            simulate_batch(policies, scenario)
            done += len(policies)
        out[str(cv)] = done / (time.process_time() - start)
    return out


def job_trial_cost(trials: int, front: int = 10, call: int = 10) -> dict[str, float]:
    """CPU seconds per trial of the draws-256 quick start, and per point of a front's
    robustness, with whichever ``objectives`` this process imports."""
    import objectives

    plan = UncertaintyPlan(draws=256, method="lhs", seed=0, statistic="quantile", quantile=0.9)
    problem = UncertainProblem(ScenarioProblem(load_scenario("thread-churn-20")), plan)
    points = quickstart_points(trials + front, seed=1)
    problem.evaluate_batch(points[:1])  # builds the draw scenarios
    start = time.process_time()
    for i in range(0, trials, call):
        problem.evaluate_batch(points[i : min(trials, i + call)])
    per_trial = (time.process_time() - start) / trials
    # ``front`` rebuilds the problem from the study: a fresh one, its draws built untimed
    fresh = UncertainProblem(ScenarioProblem(load_scenario("thread-churn-20")), plan)
    fresh.draw_problems()
    start = time.process_time()
    fresh.per_draw(points[trials:])
    per_front_point = (time.process_time() - start) / front
    return {
        "objectives": str(Path(objectives.__file__).resolve().parent.parent),
        "trials": trials,
        "cpu_s_per_trial": per_trial,
        "cpu_s_per_front_point": per_front_point,
    }


def _child(tree: Path, trials: int) -> dict[str, float]:
    """``job_trial_cost`` in a fresh process importing ``objectives`` from ``tree``."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    out = subprocess.run(
        [sys.executable, __file__, "--child", str(trials)],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    result = json.loads(out.strip().splitlines()[-1])
    if Path(result["objectives"]) != tree.resolve():
        raise RuntimeError(f"the child imported {result['objectives']}, not {tree}")
    return result


def before_after(ref: str, trials: int, rounds: int = 2) -> dict:
    """Trial and front-point cost with ``ref``'s objectives and this tree's, taking turns."""
    root = HERE.parent
    with tempfile.TemporaryDirectory() as tmp:
        before_tree = Path(tmp) / "before"
        subprocess.run(
            ["git", "-C", str(root), "worktree", "add", "-q", "--detach", str(before_tree), ref],
            check=True,
        )
        commit = subprocess.run(
            ["git", "-C", str(before_tree), "rev-parse", "--short", "HEAD"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        try:
            runs = []
            for _ in range(rounds):
                runs.append(("before", _child(before_tree, trials)))
                runs.append(("after", _child(root, trials)))
        finally:
            subprocess.run(
                ["git", "-C", str(root), "worktree", "remove", "--force", str(before_tree)],
                check=True,
            )
    out: dict = {"before": f"{ref} ({commit})", "runs": []}
    for side in ("before", "after"):
        mine = [r for s, r in runs if s == side]
        out[f"{side}_cpu_s_per_trial"] = min(r["cpu_s_per_trial"] for r in mine)
        out[f"{side}_cpu_s_per_front_point"] = min(r["cpu_s_per_front_point"] for r in mine)
        out["runs"] += [{"side": side, **r} for r in mine]
    out["trial_speedup"] = out["before_cpu_s_per_trial"] / out["after_cpu_s_per_trial"]
    out["front_speedup"] = out["before_cpu_s_per_front_point"] / out["after_cpu_s_per_front_point"]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="draws 16 and 64 instead")
    parser.add_argument("--out", default=str(HERE / "results" / "uncertainty.json"))
    parser.add_argument("--before", default="main", help="git ref to compare with, or none")
    parser.add_argument("--trials", type=int, default=30, help="trials priced per run")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    if args.child is not None:
        print(json.dumps(job_trial_cost(args.child)))
        return
    trial_cost = None
    if args.before != "none":
        trial_cost = before_after(args.before, args.trials)
        print(
            f"draws-256 quick-start trial ({args.before} -> this tree, CPU s, best of 2): "
            f"{trial_cost['before_cpu_s_per_trial']:.3f} -> "
            f"{trial_cost['after_cpu_s_per_trial']:.3f} s/trial "
            f"({trial_cost['trial_speedup']:.2f}x); front robustness "
            f"{trial_cost['before_cpu_s_per_front_point']:.3f} -> "
            f"{trial_cost['after_cpu_s_per_front_point']:.3f} s/point "
            f"({trial_cost['front_speedup']:.2f}x)"
        )
    points = quickstart_points(64, seed=0)
    rows = []
    print(f"{'draws':>6} {'batch':>6} {'uncertain/s':>12} {'simulate/s':>11} {'ratio':>6}")
    for draws in (16, 64) if args.quick else (64, 256):
        for batch in (1, 8, 64):
            row = measure(draws, batch, points)
            rows.append(row)
            print(
                f"{draws:>6} {batch:>6} {row['uncertain_evals_per_s']:>12.0f} "
                f"{row['plain_simulate_evals_per_s']:>11.0f} {row['speedup']:>5.2f}x"
            )
    costs = work_cv_cost(points)
    print("work_cv -> evaluations/s: " + ", ".join(f"{k}: {v:.0f}" for k, v in costs.items()))
    result = {
        "what": "evaluations (points x draws) per CPU second on thread-churn-20, quick-start "
        "points, all-assumed constants, lhs seed 0",
        "machine": {"python": platform.python_version(), "cpus_used": 1},
        "rows": rows,
        "work_cv_evals_per_s": costs,
        "trial_cost": trial_cost,
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
