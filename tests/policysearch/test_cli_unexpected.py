"""Issue 20: an exception nobody expected is one line on stderr and exit 1, never a traceback
(unless ``--debug``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from policysearch import cli
from policysearch.commands import run as run_command
from tests.conftest import CONFIGS

JOB = str(CONFIGS / "jobs" / "quickstart.yaml")


def _fails(*args, **kwargs):
    raise RecursionError("maximum recursion depth exceeded\nwhile calling a Python object")


@pytest.mark.parametrize("debug", [False, True])
def test_an_unexpected_exception_in_run_is_one_line_and_exit_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture, debug: bool
) -> None:
    monkeypatch.setattr(run_command, "run_search", _fails)
    argv = ["run", JOB, "--executor", "serial", "--storage", str(tmp_path / "s.journal")]
    if debug:
        with pytest.raises(RecursionError):
            cli.main(["--debug", *argv])
        return
    assert cli.main(argv) == 1
    err = capsys.readouterr().err
    assert err.splitlines() == [
        "policysearch: error: unexpected RecursionError: maximum recursion depth exceeded "
        "(run `policysearch --debug run ...` for the traceback)"
    ]
