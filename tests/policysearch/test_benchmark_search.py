"""A benchmark job runs end to end and its search reaches the known front (ground truth)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from objectives import BENCHMARKS
from policysearch.analysis.pareto import hypervolume
from tests.conftest import CONFIGS, assert_one_line_error, run_cli

JOB = CONFIGS / "jobs" / "benchmark-zdt1.yaml"


def test_zdt1_job_reaches_95_percent_of_the_true_hypervolume(tmp_path: Path) -> None:
    # Budget: the job's 500 trials, TPE with seed 0, serial executor (deterministic).
    run = run_cli("run", str(JOB), "--quiet", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert "hypervolume" in run.stdout
    front = run_cli("front", "benchmark-zdt1", "--format", "json", cwd=tmp_path)
    assert front.returncode == 0, front.stderr
    data = json.loads(front.stdout)
    points = np.array([[row["f1"], row["f2"]] for row in data["front"]])
    benchmark = BENCHMARKS["zdt1"]
    reached = hypervolume(points, benchmark.reference)
    true = hypervolume(benchmark.true_front(20_001), benchmark.reference)
    assert reached >= 0.95 * true, reached / true
    # A benchmark study has no kernel policy to export.
    assert_one_line_error(
        run_cli("export", "benchmark-zdt1", "--out", "p.yaml", cwd=tmp_path),
        "no kernel policy to export",
    )


def test_a_job_naming_both_a_benchmark_and_a_scenario_is_refused(tmp_path: Path) -> None:
    job = tmp_path / "job.yaml"
    job.write_text("benchmark: zdt1\nscenario: thread-churn-20\nobjectives: [f1, f2]\n")
    assert_one_line_error(
        run_cli("validate", str(job), cwd=tmp_path),
        "job.yaml: benchmark: found both benchmark and scenario",
    )
    job.write_text("benchmark: zdt9\nobjectives: [f1, f2]\n")
    assert_one_line_error(
        run_cli("validate", str(job), cwd=tmp_path), "job.yaml: benchmark: found 'zdt9'"
    )
