"""Drawing several pictures at once: some in this process, the rest in a forked child.

A report draws four pictures of one study (``outputs.plots``); each is a fixed cost of
matplotlib's layout, ticks and rasterising (0.2-0.6 s each on this project's 2-core machine,
about 1.5 s together whatever the study's size), and the pictures do not depend on each
other. ``draw_split`` draws the ``child`` share in a process forked after the study was read
(it inherits the view and the imported modules: nothing is pickled on the way in) while this
process draws the rest; the child sends its PNG bytes back through a pipe and exits with
``os._exit`` (no ``atexit`` handler, no buffered output of the parent's runs twice).

It draws everything here, one after the other, when forking cannot help or is unsafe: one
CPU, no ``os.fork`` (not Linux or macOS), or ``POLICYSEARCH_DRAW_FORK=0``. A child that fails
(an exception while drawing, killed, a short read) costs only time: its share is drawn again
here, so an error surfaces in this process as it would have without the child.

The pictures are the same bytes either way (matplotlib's Agg output depends on the figure,
not the process; ``tests/policysearch/test_drawing.py``).
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Callable, Mapping

FORK_VARIABLE = "POLICYSEARCH_DRAW_FORK"
"""``0`` draws every picture in this process."""

Draw = Callable[[], bytes]


def can_fork() -> bool:
    """Whether ``draw_split`` forks: more than one CPU, ``os.fork`` exists, not switched off."""
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return (
        hasattr(os, "fork")
        and (usable or 1) > 1
        and os.environ.get(FORK_VARIABLE, "1").strip() not in ("0", "false", "no")
    )


def draw_split(here: Mapping[str, Draw], child: Mapping[str, Draw]) -> dict[str, bytes]:
    """Each picture's PNG bytes by name: ``here`` drawn in this process, ``child`` in a forked
    child at the same time (module doc), or here too when forking cannot help."""
    if not child or not can_fork():
        return {name: draw() for name, draw in {**here, **child}.items()}
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: draw its share, send it, leave without any cleanup of the parent's
        os.close(reader)
        try:
            payload = pickle.dumps({name: draw() for name, draw in child.items()})
        except BaseException:
            payload = b""
        try:
            with os.fdopen(writer, "wb") as pipe:
                pipe.write(payload)
        finally:
            os._exit(0)
    os.close(writer)
    try:
        pictures = {name: draw() for name, draw in here.items()}
    except BaseException:
        os.close(reader)  # the child's write fails at once (a full pipe would block it)
        os.waitpid(pid, 0)
        raise
    with os.fdopen(reader, "rb") as pipe:
        payload = pipe.read()
    os.waitpid(pid, 0)
    drawn = _received(payload, child)
    for name, draw in child.items():
        pictures[name] = drawn[name] if name in drawn else draw()
    return pictures


def _received(payload: bytes, wanted: Mapping[str, Draw]) -> dict[str, bytes]:
    """The child's pictures, or none of them when its payload is not whole."""
    if not payload:
        return {}
    try:
        drawn = pickle.loads(payload)
    except (pickle.UnpicklingError, EOFError, ValueError):
        return {}
    if not isinstance(drawn, dict) or set(drawn) != set(wanted):
        return {}
    return {name: png for name, png in drawn.items() if isinstance(png, bytes)}
