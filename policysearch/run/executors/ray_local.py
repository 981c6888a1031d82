"""The private Ray a run starts when it has no address: on loopback only, and gone at the end.

* **Loopback.** Ray binds its GCS, raylet (node manager and object manager), workers (the
  driver's too), dashboard agent and runtime-env agent to the node's address, which
  ``ray._private.services.get_node_ip_address`` takes from the interface that routes to the
  internet; ``ray.init(_node_ip_address="127.0.0.1")`` does not help, because Ray swaps a
  loopback address for that one (``resolve_ip_for_localhost``). Ray's own switch for single
  machines (how it keeps macOS and Windows off the network) does it: with
  ``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0`` the node's address is 127.0.0.1, and in Ray 2.60
  every one of those ports then listens on 127.0.0.1 only (``tests/policysearch/
  test_loopback.py`` lists them). The switch is set for the start only (the environment the
  Ray processes inherit, and Ray's constant in this process) and undone after it, so this
  process can still join a cluster later.
* **Interrupted start-up.** Ctrl-C or SIGTERM may land anywhere in ``ray.init``, after it
  started some processes and before it knows them all. The processes started under this one
  since the start (Ray's, by their command line) are killed before the interrupt goes on, so
  none is left behind. A SIGTERM during start-up arrives as the ``SystemExit(15)`` of Ray's own
  handler and is turned back into ``Terminated`` (``policysearch.interrupts``). The process
  then ends with the interrupt's exit code without tearing Ray's half-made core down
  (``_end_at_exit``: that tear-down crashed now and then).
* **Stop.** ``ray.shutdown()``, then whatever of those processes still runs: Ray's agents
  notice that their raylet is gone only after a while.
* **More workers than CPUs.** The private Ray is told it has one CPU per worker, so every
  worker gets its process; the CPUs are shared. The raylet then reports every few processes
  it starts beyond four times the machine's CPUs ("WARNING: 14 PYTHON worker processes have
  been started on node ... This could be a result of using a large number of actors ...") and
  Ray's driver prints those reports on standard output (its error listener, whatever
  ``log_to_driver`` says). That warning is dropped (``_without_pool_warning``: only that one,
  every other report of the raylet still prints) and the run says instead, once, how many
  evaluations can run at once (``oversubscribed``).
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import signal
import sys
from collections.abc import Iterator
from typing import Any

from policysearch import interrupts
from policysearch.errors import RunFailure

_SINGLE_MACHINE = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"

SYSTEM_CONFIG: dict[str, object] = {"enable_metrics_collection": False}
"""Ray's settings for a private Ray: no metrics (nothing would read them; without the full
dashboard agent there is nothing to send them to)."""


_POOL_WARNING = "worker processes have been started on node"
"""The raylet's report of many worker processes (``worker_pool.cc``), as Ray words it."""


def cpus() -> int:
    """The CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def oversubscribed(workers: int) -> str | None:
    """One line for a private Ray with more workers than CPUs (``None``: no more)."""
    have = cpus()
    if workers <= have:
        return None
    return (
        f"{workers} workers on {have} CPU{'s' * (have != 1)}: at most {have} evaluations run at "
        f"once and the other workers wait for a CPU; each worker is a Ray process to start "
        f"(--workers {have} uses the machine as fully and starts faster)"
    )


def _without_pool_warning() -> None:
    """Drop the raylet's "worker processes have been started" reports in this driver (the
    module doc); every other line Ray prints goes through unchanged."""
    from ray._private import worker

    printing = worker.print_to_stdstream
    if getattr(printing, "drops_pool_warning", False):
        return

    def filtered(data: dict, ignore_prefix: bool) -> None:
        lines = [line for line in data.get("lines", []) if _POOL_WARNING not in str(line)]
        if lines:
            printing({**data, "lines": lines}, ignore_prefix)

    filtered.drops_pool_warning = True  # type: ignore[attr-defined]
    worker.print_to_stdstream = filtered


def start(ray: Any, workers: int) -> set[int]:
    """Start a private Ray on 127.0.0.1; return the processes it started (for ``stop``).

    Raises:
        RunFailure: Ray cannot start (one line).
        KeyboardInterrupt: interrupted (its processes already killed).
    """
    before = set(_descendants())
    _without_pool_warning()
    try:
        with _on_loopback(ray), _lean(ray):
            ray.init(
                address="local",
                num_cpus=workers,
                include_dashboard=False,
                log_to_driver=False,
                logging_level=logging.ERROR,
                configure_logging=True,
                _system_config=SYSTEM_CONFIG,
            )
    except BaseException as exc:
        _abandon(ray, before)
        if isinstance(exc, SystemExit) and (terminated := interrupts.from_exit(exc)):
            exc = terminated
        if isinstance(exc, KeyboardInterrupt):
            _end_at_exit(interrupts.exit_code(exc))
            raise exc from None
        if isinstance(exc, Exception):
            text = str(exc).strip()
            first = text.splitlines()[0] if text else type(exc).__name__
            raise RunFailure(f"cannot start a local Ray: {first}") from None
        raise
    finally:
        interrupts.reassert()  # ray.init took SIGTERM over
    return started_since(before)


def stop(ray: Any, started: set[int]) -> None:
    """Shut the private Ray down and kill what of ``started`` (and their children) still runs."""
    doomed = set(started)
    for pid in started:  # the workers and agents a raylet started later
        doomed.update(_descendants(pid))
    try:
        ray.shutdown()
    finally:
        _kill(doomed)


def started_since(before: set[int]) -> set[int]:
    """Ray's processes under this one that were not there in ``before``."""
    return {p for p in _descendants() if p not in before and _is_ray(p)}


@contextlib.contextmanager
def _on_loopback(ray: Any) -> Iterator[None]:
    from ray._private import ray_constants

    saved_env = os.environ.get(_SINGLE_MACHINE)
    saved_constant = ray_constants.ENABLE_RAY_CLUSTER
    os.environ[_SINGLE_MACHINE] = "0"
    ray_constants.ENABLE_RAY_CLUSTER = False
    try:
        yield
    finally:
        ray_constants.ENABLE_RAY_CLUSTER = saved_constant
        if saved_env is None:
            os.environ.pop(_SINGLE_MACHINE, None)
        else:
            os.environ[_SINGLE_MACHINE] = saved_env


@contextlib.contextmanager
def _lean(ray: Any) -> Iterator[None]:
    """Start Ray's dashboard processes in their minimal form, as a ``pip install ray`` does.

    With ``ray[default]`` installed (the test extras and ``[cluster]`` have it), Ray starts the
    full dashboard agent on every node (metrics, events, log and job HTTP servers) even with
    ``include_dashboard=False``, and the raylet registers only once that agent is up: seconds
    on a busy machine, for servers a private Ray of one run never uses. Ray decides between
    full and minimal by trying to import the dashboard's dependencies
    (``get_dashboard_dependency_error``); for the start, that check says they are missing.
    """
    from ray._private import utils

    saved = utils.get_dashboard_dependency_error
    utils.get_dashboard_dependency_error = lambda: ImportError("a private Ray needs no dashboard")
    try:
        yield
    finally:
        utils.get_dashboard_dependency_error = saved


def _abandon(ray: Any, before: set[int]) -> None:
    """After a failed or interrupted start: kill what it started, then forget it in-process."""
    with interrupts.deferred():
        _kill(started_since(before))
        with contextlib.suppress(Exception):
            ray.shutdown()
        _kill(started_since(before))  # children the first look missed


def _end_at_exit(code: int) -> None:
    """End the process at exit without tearing down the core Ray had half made.

    A start-up cut short can leave Ray's C++ core worker half made in this process, and the
    interpreter's tear-down of it then crashes now and then (SIGSEGV in ``_raylet.so``, after
    the command printed its line). So when the interrupted process exits, it flushes its
    output and ends with the interrupt's exit code (130 or 143) before that tear-down.
    """

    def end() -> None:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        os._exit(code)

    atexit.register(end)  # registered after Ray's own: runs first


def _kill(pids: set[int]) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
    for pid in pids:  # reap our own children, so none stays a zombie
        with contextlib.suppress(ChildProcessError, OSError):
            os.waitpid(pid, os.WNOHANG)


def _descendants(root: int | None = None) -> list[int]:
    """Every live process below ``root`` (this process by default), from ``/proc``."""
    root = os.getpid() if root is None else root
    children: dict[int, list[int]] = {}
    try:
        entries = [e for e in os.listdir("/proc") if e.isdigit()]
    except OSError:
        return []
    for entry in entries:
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                fields = f.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        if fields[0] == b"Z":
            continue  # a zombie: already dead
        children.setdefault(int(fields[1]), []).append(int(entry))
    found, todo = [], list(children.get(root, []))
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def _is_ray(pid: int) -> bool:
    """True for a process of Ray: its binaries, scripts and workers (``ray::...``)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            command = f.read().replace(b"\0", b" ")
    except OSError:
        return False
    return command.startswith(b"ray::") or b"/ray/" in command
