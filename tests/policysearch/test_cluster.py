"""policysearch on a real two-node Ray cluster on this machine (``tests/raycluster.py``).

The cluster starts once for the module (about 20 s). Drivers run in subprocesses: the test
session holds its own local Ray (``conftest.ray_address``) and one process can be in one Ray
only. The node-kill test is last: it leaves the cluster with one node.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import optuna
import pytest
import yaml
from optuna.trial import TrialState

from policysearch.run.records import ERROR_ATTR
from policysearch.run.storage import open_storage
from tests.conftest import CONFIGS
from tests.postgres import USER, PostgresServer, postgres_server
from tests.raycluster import PGPASS, TwoNodeCluster, free_port, start_two_node_cluster

QUICKSTART = CONFIGS / "jobs" / "quickstart.yaml"
pytestmark = pytest.mark.timeout(600)


@pytest.fixture(scope="module")
def cluster() -> Iterator[TwoNodeCluster]:
    started = start_two_node_cluster()
    yield started
    started.stop()


def run(
    cluster: TwoNodeCluster,
    *args: str,
    cwd: Path,
    env: dict[str, str] | None = None,
    unset: tuple[str, ...] = (),
) -> subprocess.CompletedProcess[str]:
    """``python -m policysearch ARGS`` with the cluster's environment (token mode, RAY_TMPDIR),
    ``env`` added and the variables in ``unset`` removed."""
    merged = {**cluster.env, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "policysearch", *args],
        cwd=cwd,
        env={name: value for name, value in merged.items() if name not in unset},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def one_line_error(result: subprocess.CompletedProcess[str], code: int, *fragments: str) -> None:
    assert result.returncode == code, (result.returncode, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])


def completed(journal: Path) -> dict[int, tuple[float, ...]]:
    study = optuna.load_study(study_name="quickstart", storage=open_storage(str(journal)))
    return {
        t.number: tuple(t.values)
        for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    }


def test_the_actors_are_spread_over_both_nodes(cluster: TwoNodeCluster, tmp_path: Path) -> None:
    probe = (
        "import sys\n"
        "from objectives import load_scenario\n"
        "from objectives import ScenarioProblem\n"
        "from policysearch.run.executors import ExecutorOptions, make_executor\n"
        "p = ScenarioProblem(load_scenario('thread-churn-20'))\n"
        "ex = make_executor('ray', {p.name: p}, ExecutorOptions(workers=2, address=sys.argv[1]))\n"
        "import json, ray\n"
        "live = [n['NodeID'] for n in ray.nodes() if n['Alive']]\n"
        "print(json.dumps({'actors': ex.actor_nodes(), 'live': live}))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe, cluster.address],
        env=cluster.env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    ).stdout
    seen = json.loads(out.strip().splitlines()[-1])
    assert len(seen["live"]) == 2
    assert sorted(seen["actors"]) == sorted(seen["live"]), "one actor on each of the two nodes"


@pytest.mark.parametrize("form", ["host:port", "auto", "ray://"])
def test_a_run_reaches_the_cluster_by_each_address_form(
    cluster: TwoNodeCluster, tmp_path: Path, form: str
) -> None:
    address = {"host:port": cluster.address, "auto": "auto", "ray://": cluster.client_address}
    result = run(
        cluster,
        "run",
        str(QUICKSTART),
        "--address",
        address[form],
        "--trials",
        "8",
        "--quiet",
        "--storage",
        str(tmp_path / "s.journal"),
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "8 finished trials in the study (8 by this run, 0 failed)" in result.stdout


@pytest.mark.parametrize("held", ["~/.ray/auth_token", "RAY_AUTH_TOKEN_PATH"])
def test_a_run_holding_the_token_sets_the_auth_mode_itself(
    cluster: TwoNodeCluster, tmp_path: Path, held: str
) -> None:
    # a user who has the cluster's token as Ray looks for it, and no RAY_AUTH_MODE: Ray reads
    # the mode when it is imported, so policysearch must set it before (issue 23, item 1)
    home = tmp_path / "home"
    (home / ".ray").mkdir(parents=True)
    unset = ["RAY_AUTH_MODE", "RAY_AUTH_TOKEN"]
    if held == "~/.ray/auth_token":
        (home / ".ray" / "auth_token").write_text(cluster.token)
        unset.append("RAY_AUTH_TOKEN_PATH")
    journal = tmp_path / "s.journal"
    result = run(
        cluster,
        "run",
        str(QUICKSTART),
        "--address",
        cluster.address,
        "--workers",
        "2",
        "--trials",
        "8",
        "--quiet",
        "--storage",
        str(journal),
        cwd=tmp_path,
        env={"HOME": str(home)},
        unset=tuple(unset),
    )
    assert result.returncode == 0, (result.stdout, result.stderr)
    assert "8 finished trials in the study (8 by this run, 0 failed)" in result.stdout
    assert len(completed(journal)) == 8


def test_ray_address_is_honoured_and_a_failed_connection_stores_nothing(
    cluster: TwoNodeCluster, tmp_path: Path
) -> None:
    closed = f"127.0.0.1:{free_port()}"
    journal = tmp_path / "s.journal"
    result = run(
        cluster,
        "run",
        str(QUICKSTART),
        "--storage",
        str(journal),
        cwd=tmp_path,
        env={"RAY_ADDRESS": closed},
    )
    one_line_error(result, 2, f"cannot connect to the Ray cluster at {closed}:", "ray start --head")
    assert not journal.exists(), "a failed connection must leave no journal and no study"


def test_an_address_of_the_wrong_form_is_bad_input(cluster: TwoNodeCluster, tmp_path: Path) -> None:
    for address, fragment in (
        (cluster.dashboard, "which is for `policysearch submit`"),
        ("head-without-port", "expected HOST:PORT"),
    ):
        result = run(cluster, "run", str(QUICKSTART), "--address", address, cwd=tmp_path)
        one_line_error(result, 2, "--address", fragment)
        assert not (tmp_path / "policysearch.journal").exists()


@pytest.mark.parametrize("driver", ["opted out", "no token"])
def test_a_refused_token_says_how_to_fix_it(
    cluster: TwoNodeCluster, tmp_path: Path, driver: str
) -> None:
    # the cluster wants its token (Ray retries for about 20 s); the user opted out of token
    # auth, or has no token at all and chose no mode
    home = tmp_path / "home"
    home.mkdir()
    if driver == "opted out":
        env, unset = {"RAY_AUTH_MODE": "disabled"}, ()
    else:
        env, unset = {"HOME": str(home)}, ("RAY_AUTH_MODE", "RAY_AUTH_TOKEN_PATH")
    result = run(
        cluster,
        "run",
        str(QUICKSTART),
        "--address",
        cluster.address,
        cwd=tmp_path,
        env=env,
        unset=unset,
    )
    one_line_error(
        result,
        1,
        f"cannot connect to the Ray cluster at {cluster.address}:",
        "~/.ray/auth_token",
        "RAY_AUTH_MODE=token",
    )
    assert not (tmp_path / "policysearch.journal").exists()


def _submitted(
    cluster: TwoNodeCluster, cwd: Path, job: Path | str, storage: Path, *args: str
) -> tuple[subprocess.CompletedProcess[str], str]:
    """``policysearch submit JOB --address DASHBOARD ARGS --storage STORAGE``, which must
    succeed: its result and the Ray job's id."""
    result = run(
        cluster, "submit", str(job), "--address", cluster.dashboard, *args,
        "--storage", str(storage), cwd=cwd,
    )  # fmt: skip
    assert result.returncode == 0, (result.stdout, result.stderr)
    return result, re.search(r"as Ray job (\S+) to", result.stdout).group(1)


def test_submit_follows_the_job_and_the_front_is_read_from_here(
    cluster: TwoNodeCluster, tmp_path: Path
) -> None:
    # a job without `workers`, naming a scenario file beside it: both are uploaded
    job = yaml.safe_load(QUICKSTART.read_text())
    del job["workers"]
    job["scenario"] = "scenarios/churn.yaml"
    (tmp_path / "scenarios").mkdir()
    (tmp_path / "scenarios" / "churn.yaml").write_text(
        (CONFIGS / "scenarios" / "thread-churn-20.yaml").read_text()
    )
    (tmp_path / "job.yaml").write_text(yaml.safe_dump(job))
    (tmp_path / "big-unrelated-file.bin").write_bytes(os.urandom(1024))
    shared = tmp_path / "shared" / "team.journal"  # an absolute path the head writes
    shared.parent.mkdir()

    result, job_id = _submitted(cluster, tmp_path, "job.yaml", shared, "--follow", "--trials", "10")
    assert "2 workers: one per free CPU of the cluster" in result.stdout
    assert "10 finished trials in the study (10 by this run, 0 failed)" in result.stdout
    assert f"Ray job {job_id}: SUCCEEDED" in result.stdout

    front = run(cluster, "front", "quickstart", "--storage", str(shared), cwd=tmp_path)
    assert front.returncode == 0, front.stderr
    assert "hypervolume" in front.stdout

    status = run(cluster, "status", job_id, "--address", cluster.dashboard, cwd=tmp_path)
    assert status.returncode == 0 and f"Ray job {job_id}: SUCCEEDED" in status.stdout
    logs = run(cluster, "logs", job_id, "--address", cluster.dashboard, cwd=tmp_path)
    assert logs.returncode == 0 and "Pareto front" in logs.stdout


def test_submit_no_wait_then_stop(cluster: TwoNodeCluster, tmp_path: Path) -> None:
    shared = tmp_path / "s.journal"
    _, job_id = _submitted(cluster, tmp_path, QUICKSTART, shared, "--no-wait", "--trials", "100000")
    stop = run(cluster, "stop", job_id, "--address", cluster.dashboard, cwd=tmp_path)
    assert stop.returncode == 0 and "stop requested" in stop.stdout, stop.stderr
    follow = run(cluster, "logs", job_id, "--follow", "--address", cluster.dashboard, cwd=tmp_path)
    assert follow.returncode == 130, (follow.stdout, follow.stderr)
    assert f"Ray job {job_id}: STOPPED" in follow.stderr


def _job_api(cluster: TwoNodeCluster, code: str, *args: str) -> str:
    """What ``code`` prints, run with Ray's ``JobSubmissionClient`` on the cluster's dashboard
    as ``jobs`` and ``args`` in ``sys.argv[1:]``, in a subprocess with the cluster's
    environment (its token), as the CLI runs."""
    prelude = (
        "import sys\n"
        "from ray.job_submission import JobSubmissionClient\n"
        "jobs = JobSubmissionClient(sys.argv[1])\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", prelude + code, cluster.dashboard, *args],
        env=cluster.env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _entrypoint(cluster: TwoNodeCluster, job_id: str) -> str:
    """The command line Ray runs on the head for job ``job_id``."""
    return _job_api(cluster, "print(jobs.get_job_info(sys.argv[2]).entrypoint)\n", job_id).strip()


def test_submit_hands_the_time_budget_and_the_storage_retry_to_the_head(
    cluster: TwoNodeCluster, tmp_path: Path
) -> None:
    shared = tmp_path / "budget.journal"
    result, job_id = _submitted(
        cluster, tmp_path, QUICKSTART, shared, "--follow", "--trials", "100000",
        "--workers", "2", "--timeout", "4s", "--storage-retry", "1m30s",
    )  # fmt: skip
    # the run on the head stopped on the budget and said so; the job succeeded
    assert "stopped on the time budget (--timeout 4.00 s)" in result.stdout, result.stdout
    assert f"Ray job {job_id}: SUCCEEDED" in result.stdout
    entrypoint = _entrypoint(cluster, job_id)
    assert "--timeout 4s" in entrypoint and "--storage-retry 90s" in entrypoint, entrypoint
    bad = run(cluster, "submit", str(QUICKSTART), "--address", cluster.dashboard,
              "--storage-retry", "soon", cwd=tmp_path)  # fmt: skip
    one_line_error(bad, 2, "--storage-retry", "expected a positive duration")


def test_a_job_submitted_without_waiting_can_be_watched(
    cluster: TwoNodeCluster, tmp_path: Path
) -> None:
    shared = tmp_path / "w.journal"
    result, job_id = _submitted(
        cluster, tmp_path, QUICKSTART, shared, "--no-wait", "--trials", "12", "--workers", "2"
    )
    # every hint names the head it was given, so it can be pasted as is
    assert f"policysearch logs {job_id} --follow --address {cluster.dashboard}" in result.stdout
    assert f"policysearch status {job_id} --address {cluster.dashboard}" in result.stdout
    follow = run(cluster, "logs", job_id, "--follow", "--address", cluster.dashboard, cwd=tmp_path)
    assert follow.returncode == 0, (follow.stdout, follow.stderr)
    # progress lines even though nobody waited (no --quiet), saying where the workers ran;
    # no INFO lines of Ray's own among ours
    line = next(x for x in follow.stdout.splitlines() if x.startswith("progress: "))
    assert "12 of 12 finished" in line and "hypervolume" in line, line
    # the nodes register under the machine's address, not 127.0.0.1 (README: Run on a cluster)
    assert re.search(r"workers: Ray cluster \S+, 2 workers on [12] nodes?: ", line), line
    assert not [x for x in follow.stdout.splitlines() if " INFO " in x], follow.stdout
    status = run(cluster, "status", job_id, "--address", cluster.dashboard, cwd=tmp_path)
    assert status.returncode == 0, status.stderr
    assert f"study 'quickstart' in {shared}: 12 finished of 12, 0 failed, 0 running" in (
        status.stdout
    )
    listed = run(cluster, "jobs", "--address", cluster.dashboard, cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    row = next(x for x in listed.stdout.splitlines() if x.startswith(job_id))
    assert row.split()[1:3] == ["SUCCEEDED", "quickstart"], row
    data = json.loads(
        run(
            cluster, "jobs", "--address", cluster.dashboard, "--format", "json", cwd=tmp_path
        ).stdout
    )
    assert any(j["job"] == job_id and j["start_time"] for j in data)


def test_submit_errors_are_one_line(cluster: TwoNodeCluster, tmp_path: Path) -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    absolute = ["--storage", str(tmp_path / "s.journal")]
    cases = [
        (("submit", str(QUICKSTART), "--address", closed, *absolute), 1, "nothing answers there"),
        (("submit", str(QUICKSTART), "--address", cluster.address, *absolute), 2, "dashboard URL"),
        (("submit", str(QUICKSTART), "--address", cluster.dashboard), 2, "relative path"),
        (("submit", "nosuch.yaml", "--address", cluster.dashboard), 2, "no such job file"),
        (("status", "raysubmit_nosuchjob", "--address", cluster.dashboard), 2, "no such Ray job"),
        (("status", "x", "--address", closed), 1, f"cannot reach the Ray dashboard at {closed}"),
    ]
    for args, code, fragment in cases:
        one_line_error(run(cluster, *args, cwd=tmp_path), code, fragment)
    refused = run(
        cluster,
        "status",
        "x",
        "--address",
        cluster.dashboard,
        cwd=tmp_path,
        env={"RAY_AUTH_MODE": "disabled"},
    )
    one_line_error(refused, 1, "RAY_AUTH_MODE=token")


@pytest.fixture(scope="module")
def server() -> Iterator[PostgresServer]:
    with postgres_server() as running:
        yield running


def _stored_by_ray(cluster: TwoNodeCluster) -> str:
    """Everything Ray keeps about every job: what its Job API returns (entrypoint, runtime
    environment, metadata, messages), then every file under the cluster's temp folder (the
    uploaded working_dir as unpacked on the head, the jobs' logs, the session's files), the
    nodes' own password file aside."""
    listed = _job_api(
        cluster,
        "for job in jobs.list_jobs():\n"
        "    print(repr(job))\n"
        "    if job.submission_id:\n"
        "        print(repr(jobs.get_job_info(job.submission_id)))\n",
    )
    assert "entrypoint=" in listed and "runtime_env=" in listed and "metadata=" in listed
    parts = [listed]
    for path in cluster.temp_dir.rglob("*"):
        if path.is_file() and not path.is_symlink() and path.name != PGPASS:
            parts.append(path.read_bytes().decode("utf-8", "replace"))
    return "\n".join(parts)


def test_submit_sends_no_database_password_to_the_cluster(
    cluster: TwoNodeCluster, server: PostgresServer, tmp_path: Path
) -> None:
    url = server.create_database("submitted")
    bare = f"postgresql://{USER}@127.0.0.1:{server.port}/submitted"
    job = yaml.safe_load(QUICKSTART.read_text())
    job["storage"] = url  # the job file holds the password too: --storage wins, the copy has none
    (tmp_path / "job.yaml").write_text(yaml.safe_dump(job))

    for args, named in [
        (["--storage", url], "--storage: "),
        (["--storage", f"{bare}?password={server.password}"], "--storage: "),
        ([], "job.yaml: storage: "),
    ]:
        refused = run(cluster, "submit", "job.yaml", "--address", cluster.dashboard, *args,
                      "--trials", "6", cwd=tmp_path)  # fmt: skip
        one_line_error(refused, 2, named, "holds a password", bare, "PGPASSWORD", "~/.pgpass")
        assert server.password not in refused.stdout + refused.stderr

    # the way that works: the head reads the password from its own password file
    (cluster.temp_dir / PGPASS).write_text(f"127.0.0.1:{server.port}:*:{USER}:{server.password}\n")
    result = run(cluster, "submit", "job.yaml", "--address", cluster.dashboard, "--storage", bare,
                 "--trials", "6", "--workers", "2", cwd=tmp_path)  # fmt: skip
    assert result.returncode == 0, (result.stdout, result.stderr)
    assert "6 finished trials in the study (6 by this run, 0 failed)" in result.stdout
    assert server.password not in result.stdout + result.stderr
    study = optuna.load_study(study_name="quickstart", storage=open_storage(url))
    assert len(study.get_trials(states=(TrialState.COMPLETE,))) == 6

    stored = _stored_by_ray(cluster)
    assert "policysearch.head" in stored and f"@127.0.0.1:{server.port}/submitted" in stored
    assert "storage: postgresql://policysearch@127.0.0.1" in stored, "the uploaded job is read"
    assert server.password not in stored


def test_a_node_lost_mid_run_costs_only_its_trials(cluster: TwoNodeCluster, tmp_path: Path) -> None:
    journal = tmp_path / "s.journal"
    trials = 300
    driver = subprocess.Popen(
        [sys.executable, "-m", "policysearch", "run", str(QUICKSTART), "--address",
         cluster.address, "--trials", str(trials), "--quiet", "--storage", str(journal)],
        cwd=tmp_path,
        env=cluster.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        before: dict[int, tuple[float, ...]] = {}
        while len(before) < 40:
            assert driver.poll() is None, driver.communicate()
            assert time.monotonic() < deadline, "the run did not get going"
            time.sleep(0.3)
            if journal.exists():
                before = completed(journal)
        cluster.nodes[1].kill()  # the worker node: raylet, its workers and its agents
        out, err = driver.communicate(timeout=300)
    finally:
        if driver.poll() is None:
            driver.kill()
    assert driver.returncode == 0, (out, err)
    assert len(before) < trials, "the node was killed after the run had finished"
    after = completed(journal)
    assert len(after) == trials
    assert all(after[n] == values for n, values in before.items()), "a finished trial changed"
    study = optuna.load_study(study_name="quickstart", storage=open_storage(str(journal)))
    failed = study.get_trials(deepcopy=False, states=(TrialState.FAIL,))
    assert failed, ("the node held trials when it died: they are FAIL", len(before), out, err)
    assert all("Ray worker died" in t.user_attrs.get(ERROR_ATTR, "") for t in failed)
    assert not study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
    assert f"{len(failed)} failed)" in out
