"""The trial record and the study's stored job: what is written is read back exactly."""

from __future__ import annotations

from pathlib import Path

import optuna
import pytest

from policysearch.jobs.config import job_from_mapping
from policysearch.run.storage import open_storage
from policysearch.run.study_meta import read, record
from tests.conftest import CONFIGS

# 1234567 printed with %g reads back as 1234570: a trial feasible during the search became
# infeasible in `front` (issue 8). 0.1 + 0.2 has no short decimal form at all.
BOUNDS = [1_234_567.0, 0.1 + 0.2]


def _job(bounds: list[float]):
    return job_from_mapping(
        {
            "scenario": "thread-churn-20",
            "space": {"pid.range_width": [0, 250]},
            "objectives": ["pid_bytes", "clone_latency_p99_ns"],
            "constraints": [
                f"clone_throughput_per_s >= {bounds[0]!r}",
                f"memory_fraction <= {bounds[1]!r}",
            ],
        },
        source="job.yaml",
        base_dir=CONFIGS / "jobs",
        default_name="bounds",
    )


@pytest.mark.parametrize("kind", ["journal", "sqlite"])
def test_constraint_bounds_round_trip_exactly(tmp_path: Path, kind: str) -> None:
    url = str(tmp_path / "j.journal") if kind == "journal" else f"sqlite:///{tmp_path / 's.db'}"
    job = _job(BOUNDS)
    assert [c.bound for c in job.constraints[:2]] == BOUNDS
    storage = open_storage(url)
    study = optuna.create_study(study_name="bounds", storage=storage, directions=["minimize"] * 2)
    record(study, job, sim_seed=0)
    again = optuna.load_study(study_name="bounds", storage=open_storage(url))
    info = read(again, url)
    assert info.constraints == job.constraints
    assert [c.bound for c in info.constraints[:2]] == BOUNDS


def test_constraint_text_reads_back_as_the_same_number() -> None:
    job = _job(BOUNDS)
    texts = [str(c) for c in job.constraints[:2]]
    assert texts == [
        "clone_throughput_per_s >= 1234567",
        "memory_fraction <= 0.30000000000000004",
    ]
    assert [float(t.split()[-1]) for t in texts] == BOUNDS


def test_the_service_names_no_problem_kind() -> None:
    # Issue 8: the service only ever sees a Problem; kinds are objectives' business.
    root = Path(__file__).resolve().parents[2] / "policysearch"
    for path in root.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "Benchmark" not in text, path
        assert "isinstance(job.problem" not in text and "isinstance(info.problem" not in text
