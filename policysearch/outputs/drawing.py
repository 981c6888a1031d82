"""Drawing a study's pictures with a forked helper process beside this one.

A report draws four pictures of one study (``outputs.plots``); each is a fixed cost of
matplotlib's layout, ticks and rasterising (0.2-0.8 s each on this project's 2-core machine,
about 1.5 s together whatever the study's size), importing matplotlib costs another 0.45 s,
and none of it depends on the rest. ``Drawer`` forks a helper when it is made, before the
study is read: the helper imports ``outputs.plots`` (matplotlib) while this process reads the
study, then waits. ``Drawer.draw(view, here, there)`` sends the helper a copy of the view that
crosses a pipe (``portable``: the view's arrays, its front, its knob columns; not its trial
loader; ``send`` does it as soon as the view is read), draws the ``here`` pictures in this
process meanwhile (importing matplotlib here while the helper draws), and collects the
``there`` pictures from the helper. On 2 cores the report of a 100,000-trial study takes
about 0.6 s less than drawing every picture here, 1 s less than before the helper existed.

Everything is drawn here, one picture after the other, when a helper cannot help or is unsafe:
one usable CPU, no ``os.fork`` (not Linux or macOS), other threads in this process
(``can_fork``), or ``POLICYSEARCH_DRAW_FORK=0``. A helper
that fails (an exception while drawing, killed, a short read) costs only time: its pictures
are drawn again here, so an error surfaces in this process as it would have without it. The
helper leaves with ``os._exit`` (no ``atexit`` handler, no buffered output of the parent's
written twice) when it has answered; ``Drawer.close`` kills one that has not (an error in this
process, a bad ``--select``: its pictures are not wanted). Ctrl-C and SIGTERM stop the helper
outright (their default action; they are held back during the fork), as they stop the report;
a helper stopped alone costs only time. A temporary matplotlib folder the helper made is
removed by it (matplotlib's own ``atexit`` removal does not run in it).

The pictures are the same bytes either way: a figure's Agg output depends on the figure, not
the process (``tests/policysearch/test_drawing.py`` compares a whole report both ways).
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import pickle
import shutil
import signal
import threading
from collections.abc import Sequence
from types import TracebackType
from typing import Any

FORK_VARIABLE = "POLICYSEARCH_DRAW_FORK"
"""``0`` draws every picture in this process."""

_STOPPING = (signal.SIGINT, signal.SIGTERM)
_MATPLOTLIB_CONFIG = "MPLCONFIGDIR"

HERE_PICTURES = ("front", "importances")
"""The report's pictures drawn in the reporting process (``plots.<name>_png``; the
importances are computed there once, for the picture and the table)."""
HELPER_PICTURES = ("hypervolume", "knobs")
"""The report's pictures drawn by the helper at the same time."""


def can_fork() -> bool:
    """Whether a ``Drawer`` forks: more than one usable CPU, ``os.fork``, not switched off,
    and no other thread in this process (a thread holding a lock when the process forks, the
    import lock say, would leave the helper waiting on it forever; a process that started Ray
    has threads: it draws here)."""
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return (
        hasattr(os, "fork")
        and (usable or 1) > 1
        and threading.active_count() == 1
        and os.environ.get(FORK_VARIABLE, "1").strip().lower() not in ("0", "false", "no")
    )


def portable(view: Any) -> Any:
    """A copy of ``view`` (an ``analysis.view.StudyView``) that pickles: the same arrays,
    front, info and knob columns, without the functions that read trials from the storage
    (the pictures need none of them: ``tests/policysearch/test_drawing.py``)."""
    knobs = view.knobs  # read here, once: the helper has no storage to read them from
    copy = dataclasses.replace(view, load=None, knob_table=None)
    copy.__dict__["knobs"] = knobs  # the cached_property's slot
    return copy


class Drawer:
    """Draws pictures ``plots.<name>_png(view)``, some of them in a forked helper (module doc).

    Use as a context manager (or call ``close``): the helper is gone when it ends.
    """

    def __init__(self) -> None:
        self._pid = 0
        self._to = self._back = -1
        self._sent: list[str] | None = None
        self._answered = False
        if can_fork():
            self._fork()

    def _fork(self) -> None:
        """Start the helper; without one (no file descriptors or processes left: ``OSError``)
        everything is drawn here."""
        pipes: list[int] = []
        # Ctrl-C and SIGTERM wait until the helper is on its own: one landing between the
        # fork and the helper's first line would otherwise run this process's code in it
        previous = _block(_STOPPING)
        try:
            request_read, request_write = os.pipe()
            pipes += [request_read, request_write]
            reply_read, reply_write = os.pipe()
            pipes += [reply_read, reply_write]
            pid = os.fork()
        except OSError:
            for fd in pipes:
                os.close(fd)
            _unblock(previous)
            return
        if pid == 0:
            try:
                # the helper just stops on them (the report is stopped, or draws again)
                for stopping in _STOPPING:
                    if signal.getsignal(stopping) is not signal.SIG_IGN:
                        signal.signal(stopping, signal.SIG_DFL)
                _unblock(previous)
                os.close(request_write)
                os.close(reply_read)
                _serve(request_read, reply_write)
            finally:
                os._exit(0)
        _unblock(previous)
        os.close(request_read)
        os.close(reply_write)
        self._pid, self._to, self._back = pid, request_write, reply_read

    @property
    def forked(self) -> bool:
        """Whether a helper is waiting to draw."""
        return self._pid != 0

    def send(self, view: Any, there: Sequence[str]) -> None:
        """Give the helper its pictures of ``view`` to draw now (``draw`` collects them).
        Without a helper, or when the view cannot be sent, ``draw`` draws them here."""
        if not self.forked or self._sent is not None:
            return
        self._sent = list(there)
        try:
            request = pickle.dumps((self._sent, portable(view)), pickle.HIGHEST_PROTOCOL)
            _send(self._to, request)
            os.close(self._to)
            self._to = -1
        except (OSError, pickle.PicklingError, TypeError, AttributeError):
            self.close()

    def draw(self, view: Any, here: Sequence[str], there: Sequence[str]) -> dict[str, bytes]:
        """PNG bytes of each named picture of ``view``: ``here`` drawn in this process,
        ``there`` by the helper at the same time (sent now unless ``send`` did), or here too
        without one. A drawer draws once."""
        if there:
            self.send(view, there)
        if not self.forked or self._sent != list(there):
            self.close()
            return _pictures(view, [*here, *there])
        try:
            pictures = _pictures(view, here)
            with os.fdopen(self._back, "rb") as pipe:
                self._back = -1
                reply = pipe.read()
            self._answered = True
        finally:
            self.close()
        drawn = _received(reply, there)
        for name in there:
            pictures[name] = drawn[name] if name in drawn else _pictures(view, [name])[name]
        return pictures

    def close(self) -> None:
        """End the helper and wait for it: one that has not answered is killed (an error
        here, a bad ``--select``: its pictures are not wanted), one that has leaves."""
        for fd in (self._to, self._back):
            if fd >= 0:
                os.close(fd)
        self._to = self._back = -1
        if self._pid:
            if not self._answered:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(self._pid, signal.SIGKILL)
            # a caller that ignores SIGCHLD (inherited through exec) has it reaped already
            with contextlib.suppress(ChildProcessError):
                os.waitpid(self._pid, 0)
            self._pid = 0

    def __enter__(self) -> Drawer:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()


def _serve(request_fd: int, reply_fd: int) -> None:
    """The helper: import the plots, read one request, draw it, answer (``Drawer._fork``
    then leaves with ``os._exit``).

    Matplotlib, when its configuration folder cannot be written, makes a temporary one and
    removes it from an ``atexit`` handler, which ``os._exit`` skips: the helper removes it."""
    config = os.environ.get(_MATPLOTLIB_CONFIG)
    try:
        _serve_one(request_fd, reply_fd)
    finally:
        made = os.environ.get(_MATPLOTLIB_CONFIG)
        if made and made != config:
            shutil.rmtree(made, ignore_errors=True)


def _serve_one(request_fd: int, reply_fd: int) -> None:
    """Read the request, draw it, send the reply (empty when anything failed)."""
    reply = b""
    try:
        from policysearch.outputs import plots  # noqa: F401 - imported while the study is read

        with os.fdopen(request_fd, "rb") as pipe:
            request = pipe.read()
        if request:
            names, view = pickle.loads(request)
            reply = pickle.dumps(_pictures(view, names))
    except BaseException:
        reply = b""
    with contextlib.suppress(OSError):  # the report is gone or gave up
        _send(reply_fd, reply)


def _pictures(view: Any, names: Sequence[str]) -> dict[str, bytes]:
    """``plots.<name>_png(view)`` for each name, drawn in this process."""
    from policysearch.outputs import plots

    return {name: getattr(plots, f"{name}_png")(view) for name in names}


def _block(signals: tuple[signal.Signals, ...]) -> set[signal.Signals] | None:
    """Hold ``signals`` back from this thread; the mask before (``None``: cannot here)."""
    if not hasattr(signal, "pthread_sigmask"):
        return None
    return signal.pthread_sigmask(signal.SIG_BLOCK, signals)


def _unblock(previous: set[signal.Signals] | None) -> None:
    """Restore the mask ``_block`` returned (held-back signals are delivered now)."""
    if previous is not None:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _send(fd: int, data: bytes) -> None:
    """Write all of ``data`` to the pipe ``fd`` (a write may take only part of it)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _received(payload: bytes, wanted: Sequence[str]) -> dict[str, bytes]:
    """The helper's pictures, or none of them when its reply is not whole."""
    if not payload:
        return {}
    try:
        drawn = pickle.loads(payload)
    except (pickle.UnpicklingError, EOFError, ValueError):
        return {}
    if not isinstance(drawn, dict) or set(drawn) != set(wanted):
        return {}
    return {name: png for name, png in drawn.items() if isinstance(png, bytes)}
