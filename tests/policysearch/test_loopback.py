"""A private local Ray listens on 127.0.0.1 only (what ``ss -ltnp`` would show, from ``/proc``)."""

from __future__ import annotations

import ipaddress
import os
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import CONFIGS

QUICKSTART = CONFIGS / "jobs" / "quickstart.yaml"


def _listening() -> dict[str, tuple[str, int]]:
    """Socket inode -> (address, port) of every listening TCP socket of this network."""
    found = {}
    for table in ("tcp", "tcp6"):
        try:
            rows = Path(f"/proc/net/{table}").read_text().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            if fields[3] != "0A":  # TCP_LISTEN
                continue
            address, port = fields[1].split(":")
            raw = bytes.fromhex(address)
            # the kernel prints each 32-bit word in host (little-endian) order
            raw = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
            ip = ipaddress.ip_address(raw)
            if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
                ip = ip.ipv4_mapped
            found[fields[9]] = (str(ip), int(port, 16))
    return found


def _tree(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_bytes()
            except OSError:
                continue
            children.setdefault(int(stat.rsplit(b")", 1)[1].split()[1]), []).append(int(entry))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def _sockets_of(root: int) -> set[tuple[str, int, str]]:
    """(address, port, process name) of every listening socket of ``root`` and its children."""
    listening = _listening()
    found = set()
    for pid in _tree(root):
        try:
            name = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0].decode()
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                link = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if link.startswith("socket:[") and link[8:-1] in listening:
                address, port = listening[link[8:-1]]
                found.add((address, port, os.path.basename(name)))
    return found


def test_a_private_ray_listens_on_loopback_only(tmp_path: Path) -> None:
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", "PYTHONWARNINGS": "ignore"}
    env.pop("RAY_ADDRESS", None)
    command = [sys.executable, "-m", "policysearch", "run", str(QUICKSTART), "--quiet"]
    run = subprocess.Popen(
        [*command, "--trials", "100000", "--executor", "ray", "--storage", "l.journal"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    seen: set[tuple[str, int, str]] = set()
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and not (tmp_path / "l.journal").exists():
            assert run.poll() is None, run.communicate()[1]
            time.sleep(0.2)
        for _ in range(10):  # the agents open their ports a little later
            seen |= _sockets_of(run.pid)
            time.sleep(0.3)
    finally:
        run.terminate()
        run.communicate(timeout=60)
    names = {name for _, _, name in seen}
    assert {"gcs_server", "raylet"} <= names, seen  # the look found Ray's processes
    assert len(seen) >= 5, seen
    exposed = sorted(s for s in seen if not ipaddress.ip_address(s[0]).is_loopback)
    assert not exposed, f"listening beyond loopback: {exposed}"
