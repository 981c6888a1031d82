"""More workers than CPUs on a private Ray (issue 22): one line of ours, none of Ray's warnings.

A private Ray with four times more workers than the machine's CPUs makes the raylet report
"N PYTHON worker processes have been started on node ...", which Ray's driver prints on
standard output; the run prints instead one line saying how many evaluations run at once.
A real run in a subprocess with a real private Ray, as few trials as workers.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from policysearch.run.executors.ray_local import cpus
from tests.conftest import CONFIGS, run_cli

QUICKSTART = CONFIGS / "jobs" / "quickstart.yaml"
RAY_WARNING = "worker processes have been started"


@pytest.mark.timeout(600)
def test_more_workers_than_cpus_is_one_line_of_ours(tmp_path: Path) -> None:
    have = cpus()
    workers = 10 * have  # well past the raylet's threshold (four times the CPUs)
    if workers > 40:
        pytest.skip(f"{have} CPUs: provoking Ray's warning takes more than 40 workers")
    result = run_cli(
        "run", str(QUICKSTART), "--executor", "ray", "--workers", str(workers),
        "--trials", str(workers), "--storage", "w.journal", "--quiet",
        cwd=tmp_path, timeout=500,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    ours = [line for line in result.stderr.splitlines() if f"{workers} workers on " in line]
    assert ours == [
        f"policysearch: {workers} workers on {have} CPU{'s' * (have != 1)}: at most {have} "
        "evaluations run at once and the other workers wait for a CPU; each worker is a Ray "
        f"process to start (--workers {have} uses the machine as fully and starts faster)"
    ], result.stderr
    assert RAY_WARNING not in result.stdout + result.stderr, result.stdout + result.stderr
    assert "(raylet)" not in result.stdout + result.stderr
    assert f"{workers} finished trials in the study" in result.stdout
