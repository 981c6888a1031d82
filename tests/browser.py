"""Headless Chromium for tests: open a local page with every network fetch bound to fail.

Chromium is told to send all traffic through a proxy at 127.0.0.1:9 (the discard port, where
nothing listens), loopback included (``<-loopback>``), and not to fetch anything in the
background. A page that needs the network therefore renders without what it fetches.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

CANDIDATES = ("chromium", "chromium-browser", "/usr/bin/chromium")


def chromium_or_skip() -> str:
    """The Chromium executable; skip the test when there is none, fail instead under CI."""
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    reason = (
        "headless Chromium is not installed (Debian: apt-get install chromium); "
        "it is needed to check that the HTML report renders offline"
    )
    if os.environ.get("CI"):
        pytest.fail(reason + "; CI is set, so this is a failure, not a skip")
    pytest.skip(reason)


def _run(executable: str, profile: Path, *args: str, timeout: float = 90) -> str:
    command = [
        executable,
        "--headless",
        "--no-sandbox",  # tests may run as root, where the sandbox refuses to start
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        "--proxy-server=127.0.0.1:9",
        "--proxy-bypass-list=<-loopback>",
        *args,
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    assert result.returncode == 0, (command, result.returncode, result.stderr[-2000:])
    return result.stdout


def dump_dom(executable: str, page: Path, profile: Path) -> str:
    """The DOM of ``page`` after loading it (5 s of virtual time), serialised as HTML."""
    return _run(
        executable, profile, "--virtual-time-budget=5000", "--dump-dom", page.resolve().as_uri()
    )


def screenshot(
    executable: str, page: Path, out: Path, profile: Path, size: tuple[int, int] = (1400, 3000)
) -> Path:
    """A PNG screenshot of ``page`` in a window of ``size`` (width, height) pixels."""
    _run(
        executable,
        profile,
        f"--screenshot={out}",
        f"--window-size={size[0]},{size[1]}",
        "--hide-scrollbars",
        page.resolve().as_uri(),
    )
    assert out.is_file(), f"Chromium wrote no screenshot to {out}"
    return out
