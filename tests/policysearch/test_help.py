"""Every command's ``--help`` works (issue 13: ``export --help`` crashed on a bare ``%``)."""

from __future__ import annotations

import argparse

import pytest

from policysearch.cli import build_parser
from tests.conftest import REPO, run_cli


def _commands() -> list[str]:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return sorted(sub.choices)


def test_every_command_is_listed() -> None:
    assert {"run", "front", "report", "export", "evaluate", "validate"} <= set(_commands())


@pytest.mark.parametrize("command", ["", *_commands()])
def test_help_prints_usage_and_exits_0(command: str) -> None:
    args = [command, "--help"] if command else ["--help"]
    result = run_cli(*args, cwd=REPO, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout.startswith("usage: policysearch")
