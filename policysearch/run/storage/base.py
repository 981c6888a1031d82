"""What every kind of storage provides: the interface behind the one dispatch (``locate``).

A storage argument (``--storage``, a job's ``storage:``) is a journal file path or a database
URL. ``policysearch.run.storage.locate`` tells which, once, and returns a ``Storage`` of that
kind; every command then asks the storage, never the argument again:

* ``open(must_exist=...)``: Optuna's storage. Reading commands pass ``must_exist=True``: a
  missing journal file or a database without Optuna's tables is an input error, and nothing
  is created.
* ``open_for_run()``: the storage a run writes to, with the call that makes its writes
  durable (``RunStorage``), and, for a journal the scan models, its studies as columns
  (``journal_open``: a resume reads those instead of every stored trial).
* ``run_lock()``: held by a run from its start to its end. A journal file takes one driver; a
  database takes any number, so its lock does nothing.
* ``scan(study)`` and ``scan_every()``: the column-wise read of a journal file
  (``journal_scan``), or ``None`` when Optuna's storage should read (a database, a study the
  scan does not model, a file it cannot read). Both ways give the same answer.
* ``shown`` (the argument with its password hidden: what users see), ``description`` (for
  progress lines), ``key`` (one key for the spellings of one storage).

Every error is one ``BadInput`` line (exit code 2) naming the storage as ``shown``.
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from optuna.storages import BaseStorage

from policysearch.run.storage.journal_scan import ScannedStudy

if TYPE_CHECKING:
    from policysearch.run.storage.journal_open import ScannedJournal


@dataclass(frozen=True)
class RunStorage:
    """The storage a run writes to, and how to make what it wrote durable."""

    storage: BaseStorage
    commit: Callable[[], None]
    notice: str | None = None  # something the run should tell the user (a repaired journal)
    scanned: ScannedJournal | None = None
    """The journal as its scan read it (``journal_open``: each study's trials as columns, and
    the study re-read after the run), when the storage was opened from it; ``None``: read the
    trials through the storage."""


class Storage(abc.ABC):
    """One storage argument, of one kind (the module doc lists what each kind provides).

    Args:
        url: the storage argument as the user gave it.
    """

    kind: str
    """``journal`` or ``database``."""

    def __init__(self, url: str) -> None:
        self.url = url

    @property
    @abc.abstractmethod
    def shown(self) -> str:
        """The argument as users may see it: a password becomes ``***``."""

    @property
    def pasteable(self) -> tuple[str, str | None]:
        """The argument as a hint prints it to be pasted back, and a note on what it leaves
        out (``None``: nothing). A kind whose ``shown`` hides a password overrides it."""
        return self.shown, None

    @property
    @abc.abstractmethod
    def description(self) -> str:
        """One line naming the storage, for progress output (its password hidden)."""

    @property
    @abc.abstractmethod
    def key(self) -> str:
        """The same text for every spelling of one storage (``j.journal``, ``./j.journal``)."""

    @abc.abstractmethod
    def open(self, *, must_exist: bool = False) -> BaseStorage:
        """Optuna's storage.

        Args:
            must_exist: for reading commands: refuse to create a missing journal file or
                Optuna's tables.

        Raises:
            BadInput: the storage is missing (with ``must_exist``) or unusable.
        """

    @abc.abstractmethod
    def open_for_run(self) -> RunStorage:
        """The storage a run writes to, and its commit.

        Raises:
            BadInput: the storage is unusable.
        """

    @abc.abstractmethod
    def run_lock(self) -> AbstractContextManager[None]:
        """Held by a run from start to end.

        Raises:
            RunFailure: another run holds it.
        """

    def scan(self, study_name: str) -> ScannedStudy | None:
        """The study read column-wise, or ``None`` when Optuna's storage should read it.

        Raises:
            BadInput: the storage is missing.
        """
        return None

    def scan_every(self) -> list[tuple[str, ScannedStudy]] | None:
        """Every study read column-wise in one pass, or ``None`` when Optuna should read.

        Raises:
            BadInput: the storage is missing.
        """
        return None
