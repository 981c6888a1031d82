"""The ``policysearch`` command line: the parser's skeleton, ``main`` and the exit codes.

Every command is a module of ``policysearch.commands`` (``add_parser`` and ``run``); this
module only builds the parser from them and turns what a command raises into an exit code.

Exit codes: 0 success; 2 bad input (one line on stderr naming the file or argument, the key,
what was found and what is expected; no traceback unless ``--debug``); 1 failure at run time;
130 interrupted (Ctrl-C; finished trials are kept and the same command continues the study);
143 terminated (SIGTERM, handled like Ctrl-C).
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import os
import sys
import warnings
from typing import NoReturn, TextIO

import optuna

from policysearch import __version__
from policysearch.commands import COMMANDS
from policysearch.errors import BadInput, PolicySearchError, RunFailure, os_cause
from policysearch.interrupts import Terminated, terminate_like_interrupt
from policysearch.interrupts import exit_code as interrupt_exit_code
from policysearch.run.storage.database import database_failure


class _Parser(argparse.ArgumentParser):
    """argparse that reports a bad argument in one line with exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """The command line's parser: the global options, then every command of ``COMMANDS``.

    Returns:
        The parser; each command's parsed arguments carry its ``run`` as ``handler``.
    """
    parser = _Parser(
        prog="policysearch",
        description="Search the memory/latency Pareto front of Linux kernel memory policies.",
    )
    _global_flags(parser, default=False)
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for command in COMMANDS:
        command_parser = command.add_parser(sub)
        command_parser.set_defaults(handler=command.run)
        # also after the command (``policysearch run JOB --debug``), without overriding one
        # given before it: a flag a command's parser did not see keeps the global value
        _global_flags(command_parser, default=argparse.SUPPRESS)
    return parser


def _global_flags(parser: argparse.ArgumentParser, *, default: object) -> None:
    """The options every command takes, before or after its name."""
    parser.add_argument("--version", action="version", version=f"policysearch {__version__}")
    parser.add_argument(
        "--debug", action="store_true", default=default, help="show tracebacks on errors"
    )


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``policysearch`` console script.

    Args:
        argv: the arguments after the program name (default: ``sys.argv[1:]``).

    Returns:
        The exit code (the module doc).
    """
    args = build_parser().parse_args(argv)
    _quiet_optuna()
    previous = sys.stdout
    guarded = sys.stdout = _GuardedStdout(previous)
    try:
        return _run(args)
    finally:
        if sys.stdout is guarded:
            sys.stdout = previous


def entry() -> int:
    """The ``policysearch`` console script and ``python -m policysearch``: ``main()``, then
    ``gc.freeze()`` before the interpreter exits. The interpreter's last act is a full cyclic
    collection over every object still alive; after a command that read a big study (the
    100,000 trials of a resume or a report) that pass alone took 0.25-0.34 s. Frozen objects
    are skipped by it and freed as before. Not in ``main``: a caller that goes on (a test, a
    script) keeps its collector as it was."""
    code = main()
    gc.freeze()
    return code


def _run(args: argparse.Namespace) -> int:
    """Run the command of ``args``; what it raises becomes one line and an exit code."""
    try:
        with terminate_like_interrupt():
            code = args.handler(args)
        sys.stdout.flush()  # a full or failing standard output is found here, not at exit
        return code
    except (PolicySearchError, BadInput) as exc:
        if args.debug:
            raise
        print(f"policysearch: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt as exc:
        if args.debug:
            raise
        what = "terminated" if isinstance(exc, Terminated) else "interrupted"
        print(
            f"policysearch: {what}; finished trials are stored, run the same command to continue",
            file=sys.stderr,
        )
        return interrupt_exit_code(exc)
    except BrokenPipeError:
        # The reader (``| head``) went away: stop quietly, as other command-line tools do.
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - stays open until exit
        return 0
    except OSError as exc:  # the machine refused: a full disk, a read-only file system...
        if args.debug:
            raise
        print(f"policysearch: error: {_machine(exc)}", file=sys.stderr)
        return RunFailure.exit_code
    except Exception as exc:  # a bug, or a lost server: one line, exit 1
        if args.debug:
            raise
        try:
            line = database_failure(exc) or _unexpected(exc, args.command)
        except Exception:  # the exception cannot even be put in words: say what it is
            line = _unexpected(exc, args.command, words=False)
        print(f"policysearch: error: {line}", file=sys.stderr)
        return RunFailure.exit_code


class _StdoutFailed(OSError):
    """Writing to standard output failed (a full device, a lost terminal)."""


class _GuardedStdout:
    """Standard output that tells its own failures apart from those of files.

    Args:
        stream: the real standard output.
    """

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise _StdoutFailed(exc.errno, exc.strerror) from exc

    def flush(self) -> None:
        try:
            self._stream.flush()
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise _StdoutFailed(exc.errno, exc.strerror) from exc

    def __getattr__(self, name: str) -> object:
        return getattr(self._stream, name)


def _machine(exc: OSError) -> str:
    """One line for an operating-system error: what could not be done, and why in words."""
    if isinstance(exc, _StdoutFailed):
        _silence_stdout()
        return f"cannot write to standard output: {os_cause(exc)}"
    if exc.filename is not None:
        return f"{exc.filename}: {os_cause(exc)}"
    return os_cause(exc)


def _silence_stdout() -> None:
    """Point standard output at /dev/null, so that the exit does not fail on it again."""
    with contextlib.suppress(OSError, AttributeError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.__stdout__.fileno())
        os.close(devnull)
    sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - stays open until exit


def _unexpected(exc: Exception, command: str, *, words: bool = True) -> str:
    """One line for an exception nobody expected, and how to see its traceback (``words``:
    with the first line of its message, if it has one that can be read)."""
    try:
        lines = str(exc).strip().splitlines() if words else []
    except Exception:  # its __str__ fails too
        lines = []
    what = type(exc).__name__ + (f": {lines[0][:200]}" if lines else "")
    return f"unexpected {what} (run `policysearch --debug {command} ...` for the traceback)"


def _quiet_optuna() -> None:
    """Our own output says what happens; Optuna's info logs and API warnings would repeat it."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)


if __name__ == "__main__":
    sys.exit(main())
