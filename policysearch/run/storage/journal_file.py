"""A journal file: Optuna's ``JournalStorage`` over a file, the default storage.

``policysearch.journal`` or ``journal:PATH``: embedded, no server, safe for several processes
on one machine; the ``optuna`` CLI reads it with ``--storage PATH --storage-class
JournalFileBackend``. One driver per journal file (``journal_guards.run_lock``). A run writes
through the group-commit writer (``journal``), readers replay it fast (``journal_replay``) or
scan it column-wise (``journal_scan``).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

from optuna.storages import BaseStorage

from policysearch.errors import BadInput
from policysearch.run.storage.base import RunStorage, Storage
from policysearch.run.storage.journal import GroupCommitJournal
from policysearch.run.storage.journal_guards import (
    check_journal_path,
    run_lock,
    set_aside_torn_tail,
)
from policysearch.run.storage.journal_open import open_scanned
from policysearch.run.storage.journal_replay import FastFileBackend, FastJournalStorage
from policysearch.run.storage.journal_scan import NotColumnar, ScannedStudy, scan, scan_every

JOURNAL_PREFIX = "journal:"


class JournalFile(Storage):
    """A journal file path, written as it is or as ``journal:PATH``."""

    kind = "journal"

    @property
    def path(self) -> Path:
        """The journal file."""
        return Path(self.url.removeprefix(JOURNAL_PREFIX)).expanduser()

    @property
    def shown(self) -> str:
        return self.url

    @property
    def description(self) -> str:
        return f"journal file {self.path}"

    @property
    def key(self) -> str:
        return str(self.path.resolve())

    def open(self, *, must_exist: bool = False) -> BaseStorage:
        path = self.path
        check_journal_path(path, must_exist=must_exist, writing=not must_exist)
        return _replayed(path, lambda: FastJournalStorage(FastFileBackend(str(path))))

    def open_for_run(self) -> RunStorage:
        """Commits in groups (``journal``); the file is only created by the first commit.

        A journal the scan models is opened from it (``journal_open``), others through
        Optuna's replay."""
        path = self.path
        check_journal_path(path, must_exist=False, writing=True)
        torn = set_aside_torn_tail(path)
        backend = GroupCommitJournal(str(path))
        notice = (
            f"set aside {torn} bytes of a torn last line (a crash mid-write) in {path}.torn"
            if torn
            else None
        )
        scanned = open_scanned(path, backend)
        if scanned is not None:  # no replay: the stored trials are read on demand
            return RunStorage(scanned.storage, backend.commit, notice, scanned)
        storage = _replayed(path, lambda: FastJournalStorage(backend))
        return RunStorage(storage, backend.commit, notice)

    def run_lock(self) -> AbstractContextManager[None]:
        return run_lock(self.path)

    def scan(self, study_name: str) -> ScannedStudy | None:
        check_journal_path(self.path, must_exist=True, writing=False)
        try:
            return scan(self.path, study_name)
        except (NotColumnar, OSError):
            return None

    def scan_every(self) -> list[tuple[str, ScannedStudy]] | None:
        check_journal_path(self.path, must_exist=True, writing=False)
        try:
            studies = scan_every(self.path)
        except (NotColumnar, OSError):
            return None
        scanned = [(name, s) for name, s in studies if isinstance(s, ScannedStudy)]
        return scanned if len(scanned) == len(studies) else None


def _replayed(path: Path, open_journal: Callable[[], BaseStorage]) -> BaseStorage:
    """Open a journal, turning a file that is not one (or is corrupt) into one input line."""
    try:
        return open_journal()
    except (ValueError, KeyError, TypeError, UnicodeDecodeError, IndexError) as exc:
        reason = str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__
        raise BadInput(
            "--storage",
            "",
            f"{str(path)!r} is not a readable Optuna journal ({type(exc).__name__}: {reason}); "
            "pass the journal the study was run with",
        ) from None
