"""``studies``, ``compare`` and ``delete`` on a real journal of small studies, through the CLI.

Five studies are searched once per module with the in-process driver: three of the quick-start
job (kernel scenarios: each stores its reference point; the one on another scenario stores
another point) and two of ZDT1 (a benchmark: no stored point). Tests that delete work on a
copy of the journal.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import optuna
import pytest

from policysearch.analysis.front import SHOWN
from policysearch.analysis.pareto import hypervolume, reference_point
from policysearch.analysis.view import study_view
from policysearch.jobs.config import load_job
from policysearch.quantities import box_share
from policysearch.run.driver import RunOptions, run_search
from policysearch.run.storage import load_study, open_storage
from policysearch.run.study_meta import read
from tests.conftest import CONFIGS, assert_one_line_error, run_cli

QUICKSTART = {"qa": ("thread-churn-20", 1), "qb": ("thread-churn-20", 2)}
OTHER_SCENARIO = {"qm": ("mixed-fleet-server", 1)}
ZDT1 = {"za": (None, 1), "zb": (None, 2)}


@pytest.fixture(scope="module")
def journal(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("studies")
    path = folder / "studies.journal"
    quickstart = CONFIGS / "jobs" / "quickstart.yaml"
    other = folder / "other-scenario.yaml"
    other.write_text(
        quickstart.read_text()
        .replace("scenario: thread-churn-20", "scenario: mixed-fleet-server")
        # its forks (2 mms per fork+exec) and 48 churners cap creation near 385k/s
        .replace("clone_throughput_per_s >= 500000", "clone_throughput_per_s >= 300000")
    )
    for job_file, studies, trials in (
        (quickstart, QUICKSTART, 30),
        (other, OTHER_SCENARIO, 30),
        (CONFIGS / "jobs" / "benchmark-zdt1.yaml", ZDT1, 20),
    ):
        job = load_job(job_file)
        for name, (scenario, seed) in studies.items():
            assert scenario in (None, job.problem.name)
            opts = RunOptions(
                trials=trials,
                workers=1,
                executor="serial",
                storage=str(path),
                study_name=name,
                seed=seed,
            )
            run_search(job, opts, out=io.StringIO())
    return path


def _views(path: Path, *names: str):
    storage = open_storage(str(path), must_exist=True)
    views = []
    for name in names:
        study = load_study(storage, name, str(path))
        views.append(study_view(study, read(study, str(path))))
    return views


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _cli_with_input(*args: str, cwd: Path, stdin: str) -> subprocess.CompletedProcess[str]:
    """``run_cli`` with ``stdin`` fed to the command (the answer to a question)."""
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", "PYTHONWARNINGS": "ignore"}
    return subprocess.run(
        [sys.executable, "-m", "policysearch", *args],
        cwd=cwd,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_studies_lists_trials_front_hypervolume_and_last_update(journal: Path) -> None:
    table = run_cli("studies", "--storage", str(journal), cwd=journal.parent)
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    assert lines[0] == f"5 studies in journal file {journal}"
    assert lines[1].split() == [
        "study", "problem", "complete", "failed", "front", "hypervolume", "(of", "ref", "box)",
        "ref", "updated",
    ]  # fmt: skip
    rows = {line.split()[0]: line.split() for line in lines[2:7]}
    assert set(rows) == {*QUICKSTART, *OTHER_SCENARIO, *ZDT1}
    assert rows["qa"][1:4] == ["thread-churn-20", "30", "0"]
    assert rows["qm"][1:4] == ["mixed-fleet-server", "30", "0"]
    assert rows["za"][1:4] == ["zdt1", "20", "0"]
    assert rows["qa"][6] == "stored" and rows["za"][6] == "auto"
    assert all(row[5].endswith("%") for row in rows.values())

    result = run_cli("studies", "--storage", str(journal), "--format", "json", cwd=journal.parent)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["storage"] == str(journal)
    listed = {s["study"]: s for s in data["studies"]}
    names = [*QUICKSTART, *OTHER_SCENARIO, *ZDT1]
    for name, view in zip(names, _views(journal, *names), strict=True):
        row = listed[name]
        assert row["problem"] == view.info.problem.name
        assert row["trials"] == {"complete": view.complete, "failed": view.failed, "other": 0}
        assert row["front_size"] == len(view.front)
        assert row["hypervolume"] == view.hypervolume
        assert row["reference_point"] == list(view.reference)
        last = max(t.datetime_complete for t in view.trials)
        assert row["last_update"] == last.isoformat()
        assert row["hypervolume_share"] == pytest.approx(view.hypervolume_share, rel=1e-12)
        assert box_share(view.hypervolume_share).split("%")[0] + "%" in " ".join(rows[name])


def test_compare_on_the_worst_stored_reference_point(journal: Path, tmp_path: Path) -> None:
    views = _views(journal, "qa", "qb", "qm")
    points = [v.info.reference.point for v in views]
    assert points[0] != points[2]  # another scenario, another baseline
    common = np.max(points, axis=0)
    expected = [hypervolume(v.costs[v.on_front], common) for v in views]
    before = _digest(journal)

    args = ("compare", "qa", "qb", "qm", "--storage", str(journal))
    page = tmp_path / "fronts.html"
    other = f"{journal}::qb"  # STORAGE::STUDY names a study in any storage
    result = run_cli(
        "compare", "qa", other, "qm", "--storage", str(journal), "--format", "json",
        "--plot", str(page), cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["objectives"] == [["pid_bytes", "minimize"], ["clone_latency_p99_ns", "minimize"]]
    assert data["reference_point"] == list(common)
    assert data["reference_origin"].startswith("the worst of the studies' stored reference")
    assert [s["study"] for s in data["studies"]] == ["qa", "qb", "qm"]
    for row, view, volume in zip(data["studies"], views, expected, strict=True):
        assert row["problem"] == view.info.problem.name
        assert row["hypervolume"] == pytest.approx(volume, rel=1e-12)
        assert row["front_size"] == len(view.front)
        assert [p["trial"] for p in row["front"]] == [t.number for t in view.front]
        assert row["front"][0]["pid_bytes"] == view.front[0].values[0]
    combined = [s["on_combined_front"] for s in data["studies"]]
    assert sum(combined) >= data["combined_front_size"] > 0

    plot = tmp_path / "fronts.png"
    table = run_cli(*args, "--plot", str(plot), cwd=tmp_path)
    assert table.returncode == 0, table.stderr
    text = table.stdout
    assert "3 studies on pid_bytes (minimize), clone_latency_p99_ns (minimize)" in text
    assert "hypervolume: the share of the common reference box" in text
    assert "the worst of the studies' stored reference points (qa, qb, qm" in text
    for row in data["studies"]:
        assert box_share(row["hypervolume_share"]).split("%")[0] + "%" in text
    fronts = text.split("the fronts")[1].splitlines()
    front_rows = [line for line in fronts if line.split()[:1] in (["qa"], ["qb"], ["qm"])]
    assert len(front_rows) == sum(min(len(v.front), SHOWN) for v in views)
    every = run_cli(*args, "--all", cwd=tmp_path).stdout.split("the fronts")[1].splitlines()
    every_rows = [line for line in every if line.split()[:1] in (["qa"], ["qb"], ["qm"])]
    assert len(every_rows) == sum(len(v.front) for v in views)
    assert f"wrote {plot}" in text
    assert plot.read_bytes().startswith(b"\x89PNG")

    assert result.stderr.strip() == f"wrote {page}"  # stdout is the JSON alone
    html = page.read_text()
    assert html.startswith("<!DOCTYPE html>") and "data:image/png;base64," in html
    assert "<script" not in html
    assert _digest(journal) == before  # reading commands store nothing


def test_compare_without_stored_points_uses_the_union_of_the_fronts(journal: Path) -> None:
    za, zb = _views(journal, "za", "zb")
    assert za.info.reference is None and zb.info.reference is None
    union = np.vstack([za.costs[za.on_front], zb.costs[zb.on_front]])
    common = reference_point(union)
    result = run_cli(
        "compare", "za", "zb", "--storage", str(journal), "--format", "json", cwd=journal.parent
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["reference_point"] == list(common)
    assert data["reference_origin"].startswith("automatic: the nadir of the union of the fronts")
    volumes = [s["hypervolume"] for s in data["studies"]]
    assert volumes == pytest.approx([hypervolume(v.costs[v.on_front], common) for v in (za, zb)])


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (
            ("compare", "qa", "za"),
            ("za: objectives: found [f1 (minimize), f2 (minimize)], but qa has [pid_bytes",),
        ),
        (("compare", "qa", "nope"), ("nope: no such study; studies in this storage: qa, qb",)),
        (("compare", "qa", "qb", "--plot", "fronts.pdf"), ("--plot", "expected a file name")),
        (("compare", "qa"), ("expected two or more",)),
        (("compare", "qa", "qa"), ("study 'qa' is given twice",)),
        (("delete", "nope", "--yes"), ("nope: no such study; studies in this storage",)),
    ],
)
def test_bad_input_is_one_line_and_changes_nothing(
    journal: Path, tmp_path: Path, args: tuple[str, ...], fragments: tuple[str, ...]
) -> None:
    before = _digest(journal)
    result = run_cli(*args, "--storage", str(journal), cwd=tmp_path)
    assert_one_line_error(result, *fragments)
    assert _digest(journal) == before
    assert list(tmp_path.iterdir()) == []  # no plot, no journal


def test_missing_storage_and_passwords(tmp_path: Path) -> None:
    for command in (("studies",), ("compare", "a", "b"), ("delete", "a", "--yes")):
        result = run_cli(*command, "--storage", "missing.journal", cwd=tmp_path)
        assert_one_line_error(result, "--storage", "missing.journal")
        assert not (tmp_path / "missing.journal").exists()
    url = "postgresql://team:s3cret-pw@127.0.0.1:1/studies"
    result = run_cli("studies", "--storage", url, cwd=tmp_path)
    assert_one_line_error(result, "postgresql://team:***@127.0.0.1:1/studies")
    assert "s3cret-pw" not in result.stdout + result.stderr


def test_delete_asks_and_only_yes_deletes(journal: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy.journal"
    shutil.copy(journal, copy)
    before = _digest(copy)
    for answer in ("n\n", ""):  # no; end of input
        result = _cli_with_input("delete", "qa", "--storage", str(copy), cwd=tmp_path, stdin=answer)
        assert result.returncode == 1, result.stderr
        assert f"delete study 'qa' (30 trials) from journal file {copy}? [y/N]" in result.stderr
        assert "not deleted" in result.stderr
        assert _digest(copy) == before

    result = _cli_with_input("delete", "qa", "--storage", str(copy), cwd=tmp_path, stdin="yes\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"deleted study 'qa' (30 trials) from journal file {copy}"
    result = run_cli("delete", "za", "--storage", str(copy), "--yes", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "[y/N]" not in result.stderr

    storage = open_storage(str(copy), must_exist=True)
    assert sorted(optuna.get_all_study_names(storage)) == ["qb", "qm", "zb"]
    listed = run_cli("studies", "--storage", str(copy), "--format", "json", cwd=tmp_path)
    assert [s["study"] for s in json.loads(listed.stdout)["studies"]] == ["qb", "qm", "zb"]
    again = run_cli("delete", "qa", "--storage", str(copy), "--yes", cwd=tmp_path)
    assert_one_line_error(again, "qa: no such study; studies in this storage: qb, qm, zb")
