"""A throwaway PostgreSQL server for tests: a temp cluster on a free port of 127.0.0.1 only.

``initdb`` makes a cluster in a fresh temp folder with one user whose password is random
(so a test can search every output for it); the ``postgres`` server runs as its own process
group and is stopped by its process id. PostgreSQL refuses to run as root, so under root the
cluster folder belongs to ``nobody`` and the programs run as ``nobody`` (``setpriv``).

Missing binaries or a missing psycopg2 skip the test, and fail it under CI (``CI`` set), like
the Chromium check in ``tests/browser.py``.
"""

from __future__ import annotations

import contextlib
import glob
import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

USER = "policysearch"
NOBODY = 65534  # uid and gid of nobody/nogroup on Debian
START_TIMEOUT_S = 30.0


def binaries_or_skip() -> Path:
    """The folder holding ``initdb`` and ``postgres``; skip without them, fail under CI."""
    found = shutil.which("initdb")
    candidates = [Path(found).resolve().parent] if found else []
    candidates += [Path(p) for p in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)]
    for folder in candidates:
        if (folder / "initdb").is_file() and (folder / "postgres").is_file():
            break
    else:
        _skip_or_fail(
            "PostgreSQL server binaries (initdb, postgres) are not installed "
            "(Debian: apt-get install postgresql)"
        )
    try:
        import psycopg2  # noqa: F401
    except ImportError:
        _skip_or_fail("psycopg2 is not installed (pip install -e '.[postgres]')")
    return folder


def _skip_or_fail(reason: str) -> None:
    reason += "; they are needed to test PostgreSQL storage"
    if os.environ.get("CI"):
        pytest.fail(reason + "; CI is set, so this is a failure, not a skip")
    pytest.skip(reason)


@dataclass
class PostgresServer:
    """A running server: connect as ``USER`` with ``password`` over TCP on 127.0.0.1.

    ``stop()`` and ``start()`` take it down and bring it back on the same port and data (a
    server restart, as ``pg_ctl restart -m fast`` does it).
    """

    port: int
    password: str
    log: Path
    command: list[str]
    proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start the server and wait until it accepts a login."""
        import psycopg2

        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(
                self.command,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, stopped by its id below
            )
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if self.proc.poll() is not None:
                pytest.fail(f"postgres exited with {self.proc.returncode}: {self._tail()}")
            try:
                psycopg2.connect(
                    host="127.0.0.1",
                    port=self.port,
                    user=USER,
                    password=self.password,
                    dbname="postgres",
                ).close()
                return
            except psycopg2.OperationalError:
                if time.monotonic() > deadline:
                    pytest.fail(f"postgres did not start: {self._tail()}")
                time.sleep(0.05)

    def stop(self) -> None:
        """A "fast" shutdown (``pg_ctl stop -m fast``: SIGINT): clients are disconnected,
        open transactions rolled back, then the server exits."""
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        os.kill(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)

    def _tail(self) -> str:
        return self.log.read_text(errors="replace")[-2000:]

    def url(self, database: str = "postgres", *, password: str | None = None) -> str:
        """A SQLAlchemy/Optuna URL for ``database`` (with the right password by default)."""
        secret = self.password if password is None else password
        return f"postgresql://{USER}:{secret}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """Create an empty database and return its URL."""
        import psycopg2

        conn = psycopg2.connect(
            host="127.0.0.1", port=self.port, user=USER, password=self.password, dbname="postgres"
        )
        try:
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute(f'CREATE DATABASE "{name}"')
        finally:
            conn.close()
        return self.url(name)


def _as_server_user() -> list[str]:
    """The command prefix that runs a program as a user PostgreSQL accepts."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.fail("running as root, and setpriv (util-linux) is missing to run as nobody")
    return [setpriv, f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def postgres_server() -> Iterator[PostgresServer]:
    """Start a private PostgreSQL server; stop it and remove its folder afterwards."""

    binaries = binaries_or_skip()
    prefix = _as_server_user()
    root = Path(tempfile.mkdtemp(prefix="policysearch-pg-"))  # not under pytest's 0700 folders
    server: PostgresServer | None = None
    try:
        data, sockets, pwfile = root / "data", root / "sock", root / "pw"
        sockets.mkdir()
        password = "pw-" + secrets.token_hex(8)
        pwfile.write_text(password + "\n")
        if prefix:
            for path in (root, sockets, pwfile):
                os.chown(path, NOBODY, NOBODY)
        subprocess.run(
            [
                *prefix,
                str(binaries / "initdb"),
                "-D",
                str(data),
                "-U",
                USER,
                f"--pwfile={pwfile}",
                "--auth-host=scram-sha-256",
                "--auth-local=scram-sha-256",
                "-E",
                "UTF8",
                "--no-sync",
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
        port = _free_port()
        log = root / "server.log"
        command = [
            *prefix,
            str(binaries / "postgres"),
            "-D",
            str(data),
            "-p",
            str(port),
            "-k",
            str(sockets),
            "-c",
            "listen_addresses=127.0.0.1",
            "-c",
            "fsync=off",  # a test cluster: durability against power loss is not tested
            "-c",
            "full_page_writes=off",
            "-c",
            "max_connections=50",
        ]
        server = PostgresServer(port, password, log, command)
        server.start()
        yield server
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(root, ignore_errors=True)
