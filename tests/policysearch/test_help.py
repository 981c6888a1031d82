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


def _every_parser(parser: argparse.ArgumentParser, path: str = "policysearch"):
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                yield from _every_parser(child, f"{path} {name}")


def test_every_argument_of_every_command_has_help() -> None:
    # issue 13, item 8: positionals, --storage and --format had none
    missing = [
        f"{path}: {action.dest if not action.option_strings else action.option_strings[0]}"
        for path, parser in _every_parser(build_parser())
        for action in parser._actions
        if not isinstance(action, argparse._HelpAction | argparse._SubParsersAction)
        and not action.help
    ]
    assert missing == []
