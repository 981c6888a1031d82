"""Issue 13: the README's "What to do next" commands run as written, one after the other.

The quick-start study is created first (serial, so the test needs no Ray start of its own);
the commands then run in order in the same folder, with ``RAY_ADDRESS`` pointing at the test
session's Ray for the commands that use the job's Ray executor. ``dashboard`` serves until
Ctrl-C; ``tests/policysearch/test_dashboard.py`` covers it.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO


def _next_commands() -> list[list[str]]:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("What to do next:", 1)[1]
    block = re.search(r"```bash\n(.*?)```", section, flags=re.S).group(1)
    commands = []
    for line in block.strip().splitlines():
        words = shlex.split(line, comments=True)
        assert words[0] == ".venv/bin/policysearch", line
        commands.append(words[1:])
    return commands


def test_what_to_do_next_runs_as_written(tmp_path: Path, ray_address: str) -> None:
    (tmp_path / "configs").symlink_to(REPO / "configs")
    env = {**os.environ, "RAY_ADDRESS": ray_address, "PYTHONWARNINGS": "ignore"}

    def run(args: list[str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "policysearch", *args],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )

    first = run(["run", "configs/jobs/quickstart.yaml", "--executor", "serial", "--quiet"])
    assert first.returncode == 0, first.stderr
    commands = _next_commands()
    assert len(commands) >= 6
    for args in commands:
        if args[0] == "dashboard":
            continue
        result = run([*args, "--quiet"] if args[0] == "run" else args)
        assert result.returncode == 0, (args, result.stderr[-2000:])
        assert "Traceback" not in result.stderr
    assert (tmp_path / "report.html").stat().st_size > 10_000
    assert (tmp_path / "policy.yaml").is_file()
