"""``policysearch dashboard``: optuna-dashboard serves a stored study, on 127.0.0.1 only.

A 12-trial serial search builds the quick-start study in process; the dashboard runs in a
subprocess on a free port and is read through its JSON API with urllib (loopback only, proxies
bypassed: no other network).
"""

from __future__ import annotations

import io
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from policysearch.cli import main
from policysearch.jobs.config import load_job
from policysearch.run.driver import RunOptions, run_search
from tests.conftest import CONFIGS, assert_one_line_error, run_cli

QUICKSTART = CONFIGS / "jobs" / "quickstart.yaml"
OBJECTIVES = ["pid_bytes", "clone_latency_p99_ns"]
TRIALS = 12
STARTUP_S = 30
# Never route 127.0.0.1 through an http_proxy from the environment.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))

pytestmark = pytest.mark.filterwarnings("ignore::optuna.exceptions.ExperimentalWarning")


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder whose default journal holds the quick-start study with 12 finished trials."""
    folder = tmp_path_factory.mktemp("dashboard")
    opts = RunOptions(
        trials=TRIALS,
        workers=1,
        executor="serial",
        storage=str(folder / "policysearch.journal"),
        study_name="quickstart",
        seed=0,
    )
    run_search(load_job(QUICKSTART), opts, out=io.StringIO())
    return folder


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str) -> tuple[int, bytes]:
    with _OPENER.open(url, timeout=5) as response:
        return response.status, response.read()


def _wait_for_studies(proc: subprocess.Popen[str], port: int) -> dict[str, Any]:
    """GET /api/studies once the server listens; fail if it exits or takes over STARTUP_S."""
    deadline = time.monotonic() + STARTUP_S
    while True:
        if proc.poll() is not None:
            pytest.fail(f"dashboard exited with {proc.returncode}: {proc.stderr.read()}")
        try:
            return json.loads(_get(f"http://127.0.0.1:{port}/api/studies")[1])
        except OSError:  # connection refused until the server listens (URLError is an OSError)
            if time.monotonic() > deadline:
                pytest.fail(f"dashboard did not answer on port {port} within {STARTUP_S} s")
            time.sleep(0.1)


def _listening_addresses(port: int) -> set[str]:
    """Local addresses of the TCP sockets listening on ``port``, read from Linux's /proc."""
    found = set()
    for name, family in (("tcp", socket.AF_INET), ("tcp6", socket.AF_INET6)):
        path = Path("/proc/net") / name
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            fields = line.split()
            address, hex_port = fields[1].rsplit(":", 1)
            if fields[3] == "0A" and int(hex_port, 16) == port:  # 0A: TCP_LISTEN
                # /proc prints each 32-bit word of the address in host (little-endian) order.
                raw = bytes.fromhex(address)
                packed = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
                found.add(socket.inet_ntop(family, packed))
    return found


def test_dashboard_serves_the_study_with_its_objective_names_on_loopback_only(
    folder: Path,
) -> None:
    port = _free_port()
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "policysearch", "dashboard", "quickstart", "--port", str(port)],
        cwd=folder,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        summaries = _wait_for_studies(proc, port)["study_summaries"]
        assert [s["study_name"] for s in summaries] == ["quickstart"]
        study_id = summaries[0]["study_id"]
        assert summaries[0]["directions"] == ["minimize", "minimize"]

        status, body = _get(f"http://127.0.0.1:{port}/api/studies/{study_id}")
        detail = json.loads(body)
        assert status == 200
        # optuna-dashboard reads the names Study.set_metric_names stored.
        assert detail["objective_names"] == OBJECTIVES
        assert detail["directions"] == ["minimize", "minimize"]
        assert len(detail["trials"]) == TRIALS

        status, page = _get(f"http://127.0.0.1:{port}/dashboard/studies/{study_id}")
        assert status == 200 and b"<html" in page.lower()

        if sys.platform.startswith("linux"):
            assert _listening_addresses(port) == {"127.0.0.1"}

        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert out.splitlines() == [
        f"serving study 'quickstart' at http://127.0.0.1:{port}/dashboard/studies/{study_id}"
        " (Ctrl-C to stop)",
        "dashboard stopped",
    ]
    assert "Traceback" not in err


def test_unknown_study_is_one_line_listing_the_studies(folder: Path) -> None:
    result = run_cli("dashboard", "nosuch", "--port", str(_free_port()), cwd=folder, timeout=60)
    assert_one_line_error(result, "nosuch", "no such study", "studies in this storage: quickstart")


def test_port_in_use_is_one_line_naming_port(folder: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run_cli("dashboard", "quickstart", "--port", str(port), cwd=folder, timeout=60)
    assert_one_line_error(result, "--port", f"port {port} on 127.0.0.1 is already in use")


def test_missing_journal_and_bad_port_are_bad_input(
    folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = str(tmp_path / "none.journal")
    assert main(["dashboard", "quickstart", "--storage", missing]) == 2
    assert "--storage: no journal file" in capsys.readouterr().err
    storage = str(folder / "policysearch.journal")
    assert main(["dashboard", "quickstart", "--storage", storage, "--port", "70000"]) == 2
    err = capsys.readouterr().err
    assert err.strip() == (
        "policysearch: error: --port: found 70000, expected a TCP port from 0 to 65535"
    )
