"""SIGINT and SIGTERM handled alike: both stop a command the way Ctrl-C does.

Python turns SIGINT into ``KeyboardInterrupt`` but lets SIGTERM kill the process on the spot
(a run then leaves its in-flight trials behind, and Ray's C++ threads print a stack dump).
``terminate_like_interrupt()`` makes SIGTERM raise ``Terminated``, a ``KeyboardInterrupt``, so
every ``except KeyboardInterrupt`` / ``except BaseException`` clean-up runs (in-flight trials
are marked FAIL and committed, workers are closed); the command line then exits 143 instead of
130.

Libraries may take SIGTERM over: ``ray.init`` installs a handler that calls ``sys.exit(15)``
(so a SIGTERM during its start-up arrives as ``SystemExit(15)``, see ``from_exit``), and Ray's
C++ core installs a crash handler that prints a C stack dump. ``reassert()`` puts ours back
after such a call.

``deferred()`` holds SIGINT and SIGTERM over a block that must not be cut in half (a journal
commit, a clean-up) and delivers them when it ends. It swaps the Python-level handlers rather
than masking the signals: a mask only covers the main thread, and a signal delivered to another
thread (Ray's, tqdm's) still runs its Python handler in the main thread at once.
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


_active = 0
"""How many ``terminate_like_interrupt`` blocks are open (in the main thread)."""


_terminating = False
"""A SIGTERM came (within the open block): Ray may have turned its ``Terminated`` into a plain
``KeyboardInterrupt``, which ``kept`` turns back."""


def _raise_terminated(signum: int, frame: FrameType | None) -> None:
    global _terminating
    # once is enough: a second SIGTERM during the clean-up falls back to the default action
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _terminating = True
    raise Terminated()


def kept(interrupt: KeyboardInterrupt) -> KeyboardInterrupt:
    """``interrupt`` as it came: ``Terminated`` if a SIGTERM raised it, though a library (Ray's
    ``ray.get`` and ``ray.wait``, which raise a fresh ``KeyboardInterrupt`` for any exception
    of a signal handler) replaced it on the way."""
    if _terminating and not isinstance(interrupt, Terminated):
        return Terminated()
    return interrupt


@contextlib.contextmanager
def terminate_like_interrupt() -> Iterator[None]:
    """Within the block, SIGTERM raises ``Terminated`` in the main thread."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    global _active, _terminating
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    _active += 1
    try:
        yield
    finally:
        _active -= 1
        if not _active:
            _terminating = False
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """Hold SIGINT and SIGTERM for the block; one that came meanwhile is raised when it ends."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []

    def note(signum: int, frame: FrameType | None) -> None:
        caught.append(signum)

    held = (signal.SIGINT, signal.SIGTERM)
    previous = {s: signal.signal(s, note) for s in held}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        if caught:
            signal.raise_signal(caught[0])  # its own handler runs now


def reassert() -> None:
    """Within a ``terminate_like_interrupt`` block, make SIGTERM ours again (after a library
    replaced its handler); elsewhere, do nothing."""
    if _active and threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _raise_terminated)


def from_exit(exc: SystemExit) -> Terminated | None:
    """``Terminated`` for the ``SystemExit(15)`` a library's SIGTERM handler raised, else None."""
    if _active and exc.code == signal.SIGTERM:
        return Terminated()
    return None
