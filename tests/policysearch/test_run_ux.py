"""Following and browsing a run, through the command line (subprocesses, serial executor).

Issue 23, items 5, 6, 9 and 11: progress lines with feasible count, front size and hypervolume
share; the closing line counts the study; ``--timeout``; global flags after the command;
``POLICYSEARCH_STORAGE``; hints that can be pasted back; the job kept out of ``optuna
studies``; ``trials`` and ``trial``. Cluster-side items (``submit --no-wait`` progress,
``status`` counts, ``jobs``) are in ``test_cluster.py``; several drivers in ``test_postgres.py``.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import optuna
import pytest

from policysearch.commands.text import storage_option
from policysearch.run import study_meta
from policysearch.run.storage import STORAGE_ENV
from tests.conftest import CONFIGS

QUICKSTART = CONFIGS / "jobs" / "quickstart.yaml"


def cli(*args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 240):
    """``python -m policysearch ARGS`` in ``cwd``, ``POLICYSEARCH_STORAGE`` unset unless given."""
    base = {k: v for k, v in os.environ.items() if k != STORAGE_ENV}
    return subprocess.run(
        [sys.executable, "-m", "policysearch", *args],
        cwd=cwd,
        env={**base, "RAY_USAGE_STATS_ENABLED": "0", "PYTHONWARNINGS": "ignore", **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture(scope="module")
def searched(tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """The quick-start job, 40 trials, serial, in a journal named by POLICYSEARCH_STORAGE."""
    folder = tmp_path_factory.mktemp("ux")
    result = cli(
        "run", str(QUICKSTART), "--executor", "serial", "--trials", "40",
        cwd=folder, env={STORAGE_ENV: "env.journal"},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return folder, result


def test_progress_line_says_feasible_front_hypervolume_share_and_where(searched) -> None:
    _, result = searched
    # stderr is not a terminal here: plain lines, as a submitted job's log shows them
    line = next(x for x in result.stderr.splitlines() if x.startswith("progress: "))
    found = re.fullmatch(
        r"progress: 40 of 40 finished \((\d+) feasible, 0 failed\); front (\d+); "
        r"hypervolume ([\d.]+)% of the reference box; workers: this process",
        line,
    )
    assert found, line
    feasible, front, share = int(found[1]), int(found[2]), float(found[3])
    assert 0 < front <= feasible <= 40 and 0 < share <= 100
    # the same counts as the study's view reports at the end
    assert f"{front} policies on the front of {feasible} feasible (40 finished)" in result.stdout


def test_closing_line_counts_the_study(searched, tmp_path: Path) -> None:
    folder, result = searched
    assert "40 finished trials in the study (40 by this run, 0 failed)" in result.stdout
    again = cli(
        "run", str(QUICKSTART), "--executor", "serial", "--trials", "48", "--quiet",
        cwd=folder, env={STORAGE_ENV: "env.journal"},
    )  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert "48 finished trials in the study (8 by this run, 0 failed)" in again.stdout
    assert "progress:" not in again.stderr  # --quiet


def test_the_storage_variable_is_every_commands_default(searched) -> None:
    folder, result = searched
    assert (folder / "env.journal").is_file() and not (folder / "policysearch.journal").exists()
    assert "in env.journal (0 of 40" in result.stdout
    # the storage in use is the default: the hint does not repeat it
    assert "next: policysearch export quickstart --select knee" in result.stdout
    env = {STORAGE_ENV: "env.journal"}
    for args in (["front", "quickstart"], ["trials", "quickstart"], ["studies"]):
        shown = cli(*args, cwd=folder, env=env)
        assert shown.returncode == 0, (args, shown.stderr)
    missing = cli("front", "quickstart", cwd=folder)  # without it: the default journal
    assert missing.returncode == 2 and "policysearch.journal" in missing.stderr
    helped = cli("front", "--help", cwd=folder, env={STORAGE_ENV: "postgresql://u:pw@h/db"})
    assert STORAGE_ENV in helped.stdout and "pw" not in helped.stdout


def test_hints_print_a_storage_that_can_be_pasted_back(tmp_path: Path) -> None:
    option, note = storage_option("postgresql://ps:s3cret@db.example:5432/studies")
    assert option == " --storage postgresql://ps@db.example:5432/studies"
    assert "***" not in option and "s3cret" not in option
    assert "PGPASSWORD" in note and "~/.pgpass" in note
    assert storage_option("other.journal") == (" --storage other.journal", None)
    result = cli(
        "run", str(QUICKSTART), "--executor", "serial", "--trials", "12", "--quiet",
        "--storage", "elsewhere.journal", cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    hint = next(x for x in result.stdout.splitlines() if x.startswith("next: "))
    export = "export quickstart --storage elsewhere.journal --select knee --out policy.yaml"
    assert hint == f"next: policysearch {export}"
    pasted = cli(*hint.removeprefix("next: policysearch ").split(), cwd=tmp_path)
    assert pasted.returncode == 0, pasted.stderr


def test_global_flags_are_taken_after_the_command_too(tmp_path: Path) -> None:
    after = cli("validate", "nosuch.yaml", "--debug", cwd=tmp_path)
    before = cli("--debug", "validate", "nosuch.yaml", cwd=tmp_path)
    plain = cli("validate", "nosuch.yaml", cwd=tmp_path)
    assert "Traceback" in after.stderr and "Traceback" in before.stderr
    assert plain.returncode == 2 and "Traceback" not in plain.stderr
    version = cli("run", "--version", cwd=tmp_path)
    assert version.returncode == 0 and version.stdout.startswith("policysearch ")


def test_timeout_stops_asking_and_exits_zero(tmp_path: Path) -> None:
    result = cli(
        "run", str(QUICKSTART), "--executor", "serial", "--trials", "1000000",
        "--timeout", "3s", cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "stopped on the time budget (--timeout 3.00 s)" in result.stdout
    done = int(re.search(r"(\d+) finished trials in the study", result.stdout)[1])
    assert 0 < done < 1_000_000
    assert "stopped asking for trials: time budget reached" in result.stderr
    bad = cli("run", str(QUICKSTART), "--timeout", "soon", cwd=tmp_path)
    assert bad.returncode == 2 and "--timeout" in bad.stderr and "30s" in bad.stderr


def test_trials_lists_every_trial_in_each_format(searched) -> None:
    folder, _ = searched
    env = {STORAGE_ENV: "env.journal"}
    data = json.loads(cli("trials", "quickstart", "--format", "json", cwd=folder, env=env).stdout)
    study = optuna.load_study(
        study_name="quickstart",
        storage=optuna.storages.JournalStorage(
            optuna.storages.journal.JournalFileBackend(str(folder / "env.journal"))
        ),
    )
    stored = study.get_trials(deepcopy=False)
    assert [d["number"] for d in data] == [t.number for t in stored]
    for row, trial in zip(data, stored, strict=True):
        assert row["state"] == trial.state.name
        assert row["params"] == trial.params
        assert list(row["values"].values()) == trial.values
    assert any(d["on_front"] for d in data)
    rows = list(csv.DictReader(io.StringIO(cli("trials", "quickstart", "--format", "csv",
                                                cwd=folder, env=env).stdout)))  # fmt: skip
    assert len(rows) == len(stored) and rows[0]["pid.lock_mode"] in ("once", "twice")
    table = cli("trials", "quickstart", cwd=folder, env=env).stdout.splitlines()
    assert table[0].split()[:3] == ["trial", "state", "pid_bytes"]
    assert len(table) == len(stored) + 1 and "e+" not in "".join(table)
    failed = cli("trials", "quickstart", "--state", "fail", cwd=folder, env=env)
    assert failed.returncode == 0 and failed.stdout.strip() == "no trials in those states"
    bad = cli("trials", "quickstart", "--state", "done", cwd=folder, env=env)
    assert bad.returncode == 2 and "--state" in bad.stderr


def test_trial_shows_everything_of_one_trial(searched) -> None:
    folder, _ = searched
    env = {STORAGE_ENV: "env.journal"}
    data = json.loads(cli("trial", "quickstart", "7", "--format", "json", cwd=folder,
                          env=env).stdout)  # fmt: skip
    assert data["number"] == 7 and data["state"] == "COMPLETE"
    assert set(data["params"]) >= {"pid.lock_mode", "pid.range_width"}
    assert {"pid_bytes", "clone_throughput_per_s"} <= set(data["metrics"])
    assert data["constraints"] and all("met" in c for c in data["constraints"])
    assert data["started"] and data["finished"] and data["sim_seed"] == 0
    text = cli("trial", "quickstart", "7", cwd=folder, env=env).stdout
    for part in ("trial 7 of study 'quickstart'", "knobs:", "objectives:", "constraints:",
                 "metrics:"):  # fmt: skip
        assert part in text
    missing = cli("trial", "quickstart", "4000", cwd=folder, env=env)
    assert missing.returncode == 2 and "no such trial" in missing.stderr


def test_optuna_studies_does_not_dump_the_job_and_old_studies_still_read(
    searched, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 's.db'}"
    result = cli(
        "run", str(QUICKSTART), "--executor", "serial", "--trials", "12", "--quiet",
        "--storage", url, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    listed = subprocess.run(
        [str(Path(sys.executable).parent / "optuna"), "studies", "--storage", url, "-f", "json"],
        capture_output=True, text=True, check=True, timeout=120,
    )  # fmt: skip
    assert "user_attrs" not in listed.stdout and "thread-churn" not in listed.stdout
    # a study written before: policysearch's keys as user attributes
    new = optuna.load_study(study_name="quickstart", storage=url)
    system = new._storage.get_study_system_attrs(new._study_id)
    old = optuna.create_study(study_name="old", storage=url, directions=new.directions)
    for key, value in system.items():
        if key.startswith(study_meta.PREFIX):
            old.set_user_attr(key, value)
    old.add_trials(new.get_trials())
    for args in (["front", "old"], ["trials", "old"], ["trial", "old", "3"]):
        shown = cli(*args, "--storage", url, cwd=tmp_path)
        assert shown.returncode == 0, (args, shown.stderr)
    resumed = cli(
        "run", str(QUICKSTART), "--executor", "serial", "--trials", "16", "--quiet",
        "--storage", url, "--study", "old", cwd=tmp_path,
    )  # fmt: skip
    assert resumed.returncode == 0, resumed.stderr
    assert "16 finished trials in the study (4 by this run" in resumed.stdout
    again = optuna.load_study(study_name="old", storage=url)
    assert again.user_attrs[study_meta.PREFIX + "job"]["trials"] == 16  # kept in its place
    assert not any(
        k.startswith(study_meta.PREFIX)
        for k in again._storage.get_study_system_attrs(again._study_id)
    )
