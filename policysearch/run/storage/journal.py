"""A journal file that commits in groups: many Optuna log records, one write and one fsync.

Optuna's ``JournalFileBackend`` writes and fsyncs every record: a trial's ask, its parameters,
its attributes and its tell are ten or more fsyncs. The driver needs durability only at its
commit points (a told trial counts as finished once it is on disk), so this backend keeps the
records appended since the last ``commit()`` in memory, serves them to the storage's own reads
as if they were in the file, and writes them all with one fsync at ``commit()``.

Rules:

* Until ``commit()`` returns, nothing of the group is on disk: a crash loses the whole group.
  The driver therefore counts a trial as finished only after the commit that carries its tell.
  A trial whose ask was committed but whose tell was not stays RUNNING in the file and is
  marked FAIL on the next run (the resume rules of ``policysearch.run.driver``).
* A commit is not cut in half by Ctrl-C: SIGINT and SIGTERM are held while it writes.
* One writer at a time: a run holds the journal's run lock from start to end
  (``journal_guards.run_lock``), so a second run is refused before it starts. Should another
  process append anyway (Optuna's own writers do not know that lock), ``commit()`` finds the
  file no longer the size it left it and refuses (``RunFailure``); the pending group is then
  dropped, never written on top of another process's records. A journal deleted or cut short
  during the run is said as such.
* A write the machine refuses (a full disk, a read-only file system, a lost permission) is one
  ``RunFailure`` naming the cause; a partly written group is cut off again, so the file ends
  at the last whole commit. Several drivers on one study
  want a database (PostgreSQL).
* Readers that only read (``front``, ``report``) use Optuna's plain backend.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Generator
from typing import Any

from optuna.storages.journal._file import get_lock_file

from policysearch import interrupts
from policysearch.errors import RunFailure, os_cause
from policysearch.run.storage.journal_guards import PidLock
from policysearch.run.storage.journal_replay import FastFileBackend


class GroupCommitJournal(FastFileBackend):
    """A ``JournalFileBackend`` whose appends wait in memory for ``commit()``."""

    def __init__(self, file_path: str) -> None:
        # The parent's set-up minus creating the file: the first commit creates it, so a run
        # that fails before its first commit leaves no file behind.
        self._file_path = file_path
        self._lock = PidLock(file_path)
        self._log_number_offset: dict[int, int] = {0: 0}
        self._pending: list[dict[str, Any]] = []
        self._scanned = False  # the parent has read the whole file once
        self._file_records = 0  # records in the file, once scanned
        self._size = os.path.getsize(file_path) if os.path.exists(file_path) else 0
        self._failed: str | None = None  # why a commit failed: every later one fails alike

    def append_logs(self, logs: list[dict[str, Any]]) -> None:
        self._pending.extend(logs)

    def read_logs(self, log_number_from: int) -> Generator[dict[str, Any], None, None]:
        if not self._scanned or log_number_from < self._file_records:
            if os.path.exists(self._file_path):
                yield from super().read_logs(log_number_from)
                # the parent notes the byte offset of every record it read: their count
                self._file_records = max(self._log_number_offset)
            self._scanned = True
        yield from self._pending[max(0, log_number_from - self._file_records) :]

    def scanned(self, records: int, size: int) -> None:
        """The file's ``records`` records (``size`` bytes) were read elsewhere (``journal_open``):
        reads continue after them."""
        self._log_number_offset[records] = size
        self._file_records = records
        self._scanned = True

    @property
    def pending(self) -> int:
        """Records waiting for ``commit()``."""
        return len(self._pending)

    def commit(self) -> None:
        """Write the pending records with one fsync.

        Raises:
            RunFailure: the file cannot be written (a full disk, a read-only file system...),
                or was deleted, cut short or written to by another process during the run
                (the pending group is dropped). After a failure every later commit raises it
                again, so the run ends with the first cause, not a consequence of it.
        """
        if self._failed is not None:
            self._pending.clear()
            raise RunFailure(self._failed)
        if not self._pending:
            return
        lines = [
            (json.dumps(log, separators=(",", ":")) + "\n").encode("utf-8") for log in self._pending
        ]
        data = b"".join(lines)
        # Ctrl-C must not land between the write and the bookkeeping: hold it until both are done
        with interrupts.deferred():
            try:
                with get_lock_file(self._lock):
                    self._check_unchanged()
                    self._append(data)
            except OSError as exc:
                self._failed = (
                    f"{self._file_path}: cannot write the journal: {os_cause(exc)}; the trials "
                    "committed before are kept, and the next run continues from them"
                )
            except RunFailure as exc:
                self._failed = str(exc)
            if self._failed is not None:
                self._pending.clear()
                raise RunFailure(self._failed)
            # The records are now in the file where the reads already numbered them.
            count = self._file_records
            for line in lines:
                self._log_number_offset[count + 1] = self._log_number_offset[count] + len(line)
                count += 1
            self._file_records = count
            self._size += len(data)
            self._pending.clear()

    def _check_unchanged(self) -> None:
        """Refuse to append to a journal that changed under this run."""
        path = self._file_path
        size = os.path.getsize(path) if os.path.exists(path) else None
        if size == self._size or (size is None and self._size == 0):
            return
        if size is None:
            raise RunFailure(
                f"{path}: the journal was deleted during the run; the trials of this run went "
                "with it (a new run starts a new journal there)"
            )
        if size < self._size:
            raise RunFailure(
                f"{path}: the journal was cut short or replaced during the run (now {size} "
                f"bytes, this run had written {self._size}); nothing more is written to it"
            )
        raise RunFailure(
            f"{path}: another process wrote to this journal during the run; "
            "run one driver per journal file (several drivers need a database storage)"
        )

    def _append(self, data: bytes) -> None:
        """Append ``data`` and fsync; after a failed write, cut the file back to where it was
        (a full disk leaves part of a line otherwise; if even that fails, the next run sets
        the torn line aside)."""
        fd = os.open(self._file_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        except OSError:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, self._size)
            raise
        finally:
            os.close(fd)

    def discard(self) -> None:
        """Drop the pending records (they were never on disk)."""
        self._pending.clear()
