"""A real two-node Ray cluster on this machine, for the cluster tests.

Each node is a ``ray start`` in its own process group (``start_new_session``), with its own
temp folder and free ports, and is ended by killing that group: never ``ray stop``, which would
stop every Ray of the user, the test session's own included. Everything listens on or is
reached through 127.0.0.1. The head's health checks are quick so a killed node is declared
dead in about 3 s instead of 30. The cluster uses token authentication, with a token of its own
(``RAY_AUTH_TOKEN_PATH`` in its temp folder), as Ray 2.60 does for any head that finds a token.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

BIN = Path(sys.executable).parent
PGPASS = "pgpass"
"""The cluster's libpq password file in its temp folder (``PGPASSFILE`` of every node)."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class RayNode:
    """One ``ray start``: the process group it runs in."""

    pgid: int
    log: Path

    def kill(self) -> None:
        """SIGKILL every process of the node, as a machine that dies.

        Ray's worker processes leave the group (they call setsid), so the group's descendants
        are found through /proc and killed too.
        """
        pids = _descendants(_group(self.pgid))
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pgid, signal.SIGKILL)
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def _processes() -> dict[int, tuple[int, int]]:
    """pid -> (parent pid, process group) of every process, from /proc."""
    table = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                table[int(entry.name)] = (int(fields[1]), int(fields[2]))
    return table


def _group(pgid: int) -> set[int]:
    return {pid for pid, (_, group) in _processes().items() if group == pgid}


def _descendants(roots: set[int]) -> set[int]:
    table = _processes()
    found = set(roots)
    while True:
        more = {pid for pid, (parent, _) in table.items() if parent in found} - found
        if not more:
            return found
        found |= more


@dataclass
class TwoNodeCluster:
    """A head (with the dashboard) and a worker node, one CPU each."""

    temp_dir: Path
    gcs_port: int
    dashboard_port: int
    client_port: int
    env: dict[str, str]
    nodes: list[RayNode] = field(default_factory=list)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.gcs_port}"

    @property
    def dashboard(self) -> str:
        return f"http://127.0.0.1:{self.dashboard_port}"

    @property
    def client_address(self) -> str:
        return f"ray://127.0.0.1:{self.client_port}"

    @property
    def token(self) -> str:
        """The cluster's authentication token."""
        return Path(self.env["RAY_AUTH_TOKEN_PATH"]).read_text()

    def start_node(self, *args: str) -> RayNode:
        log = self.temp_dir / f"node{len(self.nodes)}.log"
        with log.open("w") as out:
            proc = subprocess.Popen(
                [str(BIN / "ray"), "start", *args, *_node_ports()],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            code = proc.wait(timeout=120)
        node = RayNode(proc.pid, log)  # the daemons stay in the group ray start led
        self.nodes.append(node)
        if code != 0:
            raise RuntimeError(f"ray start {' '.join(args)} failed:\n{log.read_text()[-3000:]}")
        return node

    def alive_nodes(self) -> int:
        """Live nodes, counted by a driver in a subprocess (this process has its own Ray)."""
        code = (
            f"import ray; ray.init(address={self.address!r}); "
            "print(sum(n['Alive'] for n in ray.nodes()))"
        )
        out = subprocess.run(
            [sys.executable, "-c", code],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if out.returncode != 0:
            raise RuntimeError(f"cannot count the cluster's nodes:\n{out.stderr[-3000:]}")
        return int(out.stdout.strip().splitlines()[-1])

    def stop(self) -> None:
        """End every process of every node (found before any exits and is reparented)."""
        pids = _descendants(set().union(*(_group(n.pgid) for n in self.nodes)))
        for node in reversed(self.nodes):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(node.pgid, signal.SIGTERM)
        time.sleep(2)
        for node in self.nodes:
            node.kill()
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        shutil.rmtree(self.temp_dir, ignore_errors=True)


def _node_ports() -> list[str]:
    # Ray's fixed defaults (52365, 10001...) collide with any other Ray on the machine
    return [
        f"--dashboard-agent-listen-port={free_port()}",
        f"--dashboard-agent-grpc-port={free_port()}",
        f"--metrics-export-port={free_port()}",
        f"--runtime-env-agent-port={free_port()}",
    ]


def cluster_env(temp_dir: Path) -> dict[str, str]:
    """The environment of the nodes and of drivers run against them."""
    env = {
        **os.environ,
        "RAY_USAGE_STATS_ENABLED": "0",
        "PYTHONWARNINGS": "ignore",
        "RAY_TMPDIR": str(temp_dir),  # address="auto" finds this cluster, not another
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",  # the jobs' `python`
        "RAY_health_check_period_ms": "1000",
        "RAY_health_check_timeout_ms": "1000",
        "RAY_health_check_failure_threshold": "3",
    }
    env.pop("RAY_ADDRESS", None)
    # Token authentication always, as Ray 2.60 turns it on for anyone who has a token, with the
    # cluster's own token (not the user's ~/.ray/auth_token): nodes and drivers must agree on it.
    token = temp_dir / "auth_token"
    token.write_text(secrets.token_hex(32))
    token.chmod(0o600)
    env.pop("RAY_AUTH_TOKEN", None)  # it would win over the file
    env["RAY_AUTH_TOKEN_PATH"] = str(token)
    env["RAY_AUTH_MODE"] = "token"  # see the README: nodes must set it
    # The nodes' own password file for PostgreSQL (libpq reads it): a submitted job's URL
    # carries no password, the head finds it here. Empty until a test writes a line to it.
    pgpass = temp_dir / PGPASS
    pgpass.touch(mode=0o600)
    env["PGPASSFILE"] = str(pgpass)
    env.pop("PGPASSWORD", None)
    return env


def start_two_node_cluster() -> TwoNodeCluster:
    """Start a head (dashboard on 127.0.0.1) and a worker node; wait until both are alive."""
    # short: Unix socket paths under it must stay below 108 bytes
    temp_dir = Path(tempfile.mkdtemp(prefix="psrc", dir="/tmp"))
    cluster = TwoNodeCluster(
        temp_dir=temp_dir,
        gcs_port=free_port(),
        dashboard_port=free_port(),
        client_port=free_port(),
        env=cluster_env(temp_dir),
    )
    try:
        cluster.start_node(
            "--head",
            f"--port={cluster.gcs_port}",
            # where `ray.init(address="auto")` looks for the head's address: RAY_TMPDIR/ray
            # (a --temp-dir of RAY_TMPDIR itself would leave "auto" to scan for any GCS)
            f"--temp-dir={temp_dir / 'ray'}",
            "--dashboard-host=127.0.0.1",
            f"--dashboard-port={cluster.dashboard_port}",
            f"--ray-client-server-port={cluster.client_port}",
            "--num-cpus=1",
            "--include-dashboard=true",
        )
        cluster.start_node(f"--address={cluster.address}", "--num-cpus=1")
        deadline = time.monotonic() + 60
        while cluster.alive_nodes() < 2:
            if time.monotonic() > deadline:
                raise RuntimeError("the second node did not join within 60 s")
            time.sleep(1)
    except BaseException:
        cluster.stop()
        raise
    return cluster
