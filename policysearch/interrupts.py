"""SIGINT and SIGTERM handled alike: both stop a command the way Ctrl-C does.

Python turns SIGINT into ``KeyboardInterrupt`` but lets SIGTERM kill the process on the spot
(a run then leaves its in-flight trials behind, and Ray's C++ threads print a stack dump).
``terminate_like_interrupt()`` makes SIGTERM raise ``Terminated``, a ``KeyboardInterrupt``, so
every ``except KeyboardInterrupt`` / ``except BaseException`` clean-up runs (in-flight trials
are marked FAIL and committed, workers are closed); the command line then exits 143 instead of
130.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where Ctrl-C would raise ``KeyboardInterrupt``."""

    exit_code = 143


def exit_code(interrupt: KeyboardInterrupt) -> int:
    """128 + the signal's number: 130 for Ctrl-C, 143 for SIGTERM."""
    return getattr(interrupt, "exit_code", 130)


def _raise_terminated(signum: int, frame: FrameType | None) -> None:
    # once is enough: a second SIGTERM during the clean-up falls back to the default action
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    raise Terminated()


@contextlib.contextmanager
def terminate_like_interrupt() -> Iterator[None]:
    """Within the block, SIGTERM raises ``Terminated`` in the main thread."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
