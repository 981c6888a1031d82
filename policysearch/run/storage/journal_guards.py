"""The journal file on disk: its lock, a torn last line, and files that are not journals.

* **The lock** (``PidLock``): the same lock file Optuna's journal locks use
  (``JOURNAL.lock``, created exclusively, so Optuna's own writers and ours exclude each other),
  holding the writer's process id and host. A lock whose process is gone on this host (a
  ``kill -9``) is stale and is cleared at once instead of after Optuna's 30 s grace period.
  A lock of another host, or Optuna's own symlink lock, is waited for, then forced after
  ``GRACE_S`` like Optuna does.
* **The run lock** (``run_lock``): ``JOURNAL.run-lock``, held by a run for its whole length
  and stamped with its process id, host and the process's start time. A second run on the same
  journal file is refused before it does anything (``RunFailure``, one line naming the first
  run's pid): two writers would interleave their records, and the group commit of
  ``run.storage.journal`` would refuse the second one's first batch anyway, after its work. A lock
  whose process is gone on this host (a ``kill -9``; the start time tells a reused pid apart)
  is stale and taken over at once; one of another host is never guessed stale: its message
  says which file to delete if no run is going.
* **A torn last line** (``set_aside_torn_tail``): a crash in the middle of a write leaves a
  last line without its newline. Appending after it would glue the next record to the torn one
  and make the journal unreadable for good, so before a run writes, the torn bytes are moved to
  ``JOURNAL.torn`` (appended, kept for inspection) and the journal is cut back to its last
  complete line.
* **Checks before opening** (``check_journal_path``): a folder, an unwritable file or folder,
  or a missing file where one must exist are one-line input errors.
"""

from __future__ import annotations

import contextlib
import errno
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path

from policysearch.errors import BadInput, RunFailure

GRACE_S = 30.0
"""How long a lock that cannot be proven stale is waited for before it is forced."""
_POLL_S = 0.005


class PidLock:
    """An exclusive lock file stamped with ``pid host`` (see the module docstring)."""

    def __init__(self, journal: str) -> None:
        self._path = journal + ".lock"
        self._stamp = f"{os.getpid()} {socket.gethostname()}\n".encode()

    def acquire(self) -> bool:
        waited_since = time.monotonic()
        while True:
            try:
                fd = os.open(self._path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                if self._stale() or time.monotonic() - waited_since > GRACE_S:
                    self._remove()
                    continue
                time.sleep(_POLL_S)
                continue
            try:
                os.write(fd, self._stamp)
            finally:
                os.close(fd)
            return True

    def release(self) -> None:
        self._remove()

    def _stale(self) -> bool:
        """True when the lock belongs to a process of this host that no longer runs."""
        if os.path.islink(self._path):
            return False  # Optuna's own symlink lock: no owner to check
        try:
            text = Path(self._path).read_text(encoding="utf-8", errors="replace").split()
        except OSError:
            return False
        if len(text) != 2 or not text[0].isdigit() or text[1] != socket.gethostname():
            return False
        try:
            os.kill(int(text[0]), 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False  # alive, another user's
        return False

    def _remove(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self._path)


RUN_LOCK_SUFFIX = ".run-lock"


@contextlib.contextmanager
def run_lock(journal: Path) -> Iterator[None]:
    """Hold ``JOURNAL.run-lock`` for the block (see the module docstring).

    Raises:
        RunFailure: another run holds the lock (one line, with its pid).
    """
    path = Path(str(journal) + RUN_LOCK_SUFFIX)
    stamp = _run_stamp(os.getpid())
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(stamp, encoding="utf-8")
    except OSError:
        yield  # a missing or read-only folder: the storage check says so in one line
        return
    try:
        for _ in range(3):  # a stale lock is cleared, then taken again
            try:
                _create_whole(tmp, path, stamp)
                break
            except FileExistsError:
                holder = _holder(path)
                if holder is not None:
                    raise RunFailure(holder) from None
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(path)
        else:
            raise RunFailure(f"cannot take the run lock {str(path)!r}; try again")
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    try:
        yield
    finally:
        with contextlib.suppress(FileNotFoundError, OSError):
            if path.read_text(encoding="utf-8") == stamp:
                os.unlink(path)


def _create_whole(tmp: Path, path: Path, stamp: str) -> None:
    """Create ``path`` holding ``stamp``, failing with ``FileExistsError`` if it exists."""
    try:
        os.link(tmp, path)  # atomic, and the lock is whole the moment it exists
    except FileExistsError:
        raise
    except OSError:  # a file system without hard links
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        try:
            os.write(fd, stamp.encode())
        finally:
            os.close(fd)


def _run_stamp(pid: int) -> str:
    return f"{pid} {socket.gethostname()} {_start_time(pid)}\n"


def _start_time(pid: int) -> str:
    """The start time of process ``pid`` in clock ticks since boot (``/proc``), or ``-``."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[19].decode()
    except (OSError, IndexError):
        return "-"


def _holder(path: Path) -> str | None:
    """Why ``path`` refuses this run, or None when its run is gone (a stale lock)."""
    try:
        fields = path.read_text(encoding="utf-8", errors="replace").split()
    except FileNotFoundError:
        return None
    except OSError:
        fields = []
    journal = str(path)[: -len(RUN_LOCK_SUFFIX)]
    if len(fields) != 3 or not fields[0].isdigit():
        if time.time() - _mtime(path) > 10:
            return None  # not ours, and old: nothing to protect
        return f"{str(path)!r} is held by something else; wait, or delete it if no run is going"
    pid, host, started = int(fields[0]), fields[1], fields[2]
    if host != socket.gethostname():
        return (
            f"another policysearch run (pid {pid} on {host}) is writing to {journal}; "
            f"wait for it to end, or delete {str(path)!r} if no run is going there"
        )
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass  # alive, another user's
    if started != "-" and _start_time(pid) not in (started, "-"):
        return None  # the pid was reused by another process
    return (
        f"another policysearch run (pid {pid}) is writing to {journal}; one run per journal "
        "file: wait for it to end, or pass another --storage (several drivers on one study "
        "need a database storage)"
    )


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def set_aside_torn_tail(journal: Path) -> int:
    """Move a last line without its newline to ``JOURNAL.torn``; return the bytes moved."""
    try:
        size = journal.stat().st_size
    except FileNotFoundError:
        return 0
    if size == 0:
        return 0
    with open(journal, "rb+") as f:
        f.seek(size - 1)
        if f.read(1) == b"\n":
            return 0
        # find the last newline, reading back in blocks
        end, block = size, 1 << 16
        cut = 0
        while end > 0:
            start = max(0, end - block)
            f.seek(start)
            chunk = f.read(end - start)
            at = chunk.rfind(b"\n")
            if at != -1:
                cut = start + at + 1
                break
            end = start
        f.seek(cut)
        torn = f.read()
        with open(str(journal) + ".torn", "ab") as keep:
            keep.write(torn + b"\n")
            keep.flush()
            os.fsync(keep.fileno())
        f.truncate(cut)
        f.flush()
        os.fsync(f.fileno())
    return len(torn)


def check_journal_path(path: Path, *, must_exist: bool, writing: bool) -> None:
    """One-line input errors for a journal path that cannot be what the command needs.

    Raises:
        BadInput: a folder, a missing file (``must_exist``), a missing folder, or (``writing``)
            an unwritable file or folder.
    """
    shown = str(path)
    if path.is_dir():
        raise BadInput("--storage", "", f"{shown!r} is a folder, expected a journal file")
    if not path.exists():
        if must_exist:
            raise BadInput(
                "--storage",
                "",
                f"no journal file {shown!r}; run a search first "
                "or pass the storage the study was run with (--storage)",
            )
        folder = path.parent if str(path.parent) else Path(".")
        if not folder.is_dir():
            raise BadInput("--storage", "", f"the folder of {shown!r} does not exist")
        if writing and not os.access(folder, os.W_OK | os.X_OK):
            raise BadInput("--storage", "", f"cannot create {shown!r}: its folder is read-only")
        return
    if not path.is_file():
        raise BadInput("--storage", "", f"{shown!r} is not a regular file, expected a journal")
    if writing and not os.access(path, os.W_OK):
        raise BadInput(
            "--storage", "", f"{shown!r} is read-only ({os.strerror(errno.EACCES).lower()})"
        )
