"""Before a new search, a warning when no sampled point meets the job's constraints."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from policysearch.jobs.config import job_from_mapping, load_job
from policysearch.run.preflight import PREFLIGHT_POINTS, preflight
from tests.conftest import CONFIGS

QUICKSTART = CONFIGS / "jobs" / "quickstart.yaml"
IMPOSSIBLE = """\
name: impossible
scenario: thread-churn-20
space:
  pid.lock_mode: [once, twice]
  pid.range_width: [0, 8, 16, 32, 64, 128, 250, 512, 1024, 4096]
objectives: [pid_bytes, clone_latency_p99_ns]
constraints:
  - clone_throughput_per_s >= 5e7
  - pid_bytes <= 1e12
trials: 10
executor: serial
"""


def _job(data: dict):
    return job_from_mapping(data, source="job.yaml", base_dir=Path("."), default_name="job")


def test_a_reachable_job_gets_no_warning() -> None:
    assert preflight(load_job(QUICKSTART), 0) is None


def test_a_bound_out_of_reach_is_named_with_the_best_value_seen(tmp_path: Path) -> None:
    path = tmp_path / "impossible.yaml"
    path.write_text(IMPOSSIBLE)
    warning = preflight(load_job(path), 0)
    assert warning is not None
    assert f"{PREFLIGHT_POINTS} random points" in warning
    assert "clone_throughput_per_s >= 50000000 (best " in warning and "ops/s)" in warning
    assert "pid_bytes" not in warning  # that one is met


def test_constraints_met_apart_but_never_together() -> None:
    job = _job(
        {"benchmark": "zdt1", "objectives": ["f1", "f2"], "constraints": ["f1 <= 0.3", "f1 >= 0.7"]}
    )
    warning = preflight(job, 0)
    assert warning is not None and "never all at once" in warning


def test_the_run_warns_on_stderr_and_still_searches(tmp_path: Path) -> None:
    (tmp_path / "impossible.yaml").write_text(IMPOSSIBLE)
    done = subprocess.run(
        [sys.executable, "-m", "policysearch", "run", "impossible.yaml", "--quiet"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "policysearch: warning:" in done.stderr and "clone_throughput_per_s" in done.stderr
    assert (tmp_path / "policysearch.journal").exists()


def test_no_built_in_job_is_warned_about() -> None:
    for path in sorted((CONFIGS / "jobs").glob("*.yaml")):
        assert preflight(load_job(path), 0) is None, path.name
