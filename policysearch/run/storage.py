"""Where studies live: a journal file by default (embedded, no server), or any Optuna URL.

* ``policysearch.journal`` or ``journal:PATH``: Optuna's ``JournalStorage`` over a file,
  safe for several processes on one machine; the ``optuna`` CLI reads it with
  ``--storage PATH --storage-class JournalFileBackend``.
* ``sqlite:///studies.db``, ``postgresql://...``, ``mysql://...``: Optuna's RDB storage.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import optuna
from optuna.storages import BaseStorage, JournalStorage
from optuna.storages.journal import JournalFileBackend

from policysearch.errors import BadInput
from policysearch.run.journal import GroupCommitJournal

JOURNAL_PREFIX = "journal:"


def is_journal(url: str) -> bool:
    """True when ``url`` names a journal file rather than a database URL."""
    return "://" not in url


def journal_path(url: str) -> Path:
    """The file of a journal storage URL."""
    return Path(url.removeprefix(JOURNAL_PREFIX)).expanduser()


def open_storage(url: str, *, must_exist: bool = False) -> BaseStorage:
    """Open the storage named by ``url``.

    Args:
        url: a journal file path (optionally ``journal:PATH``) or an Optuna RDB URL.
        must_exist: for reading commands: refuse to create a missing journal file.

    Raises:
        BadInput: the journal file is missing (with ``must_exist``) or the URL is unusable.
    """
    if is_journal(url):
        path = journal_path(url)
        if must_exist and not path.is_file():
            raise BadInput(
                "--storage",
                "",
                f"no journal file {str(path)!r}; run a search first "
                "or pass the storage the study was run with (--storage)",
            )
        if path.parent and not path.parent.exists():
            raise BadInput("--storage", "", f"the folder of {str(path)!r} does not exist")
        return JournalStorage(JournalFileBackend(str(path)))
    try:
        return optuna.storages.RDBStorage(url)
    except Exception as exc:
        raise BadInput("--storage", "", f"cannot open storage {url!r}: {exc}") from None


@dataclass(frozen=True)
class RunStorage:
    """The storage a run writes to, and how to make what it wrote durable."""

    storage: BaseStorage
    commit: Callable[[], None]


def open_run_storage(url: str) -> RunStorage:
    """Open ``url`` for a run: a journal file commits in groups (``run.journal``) and is only
    created by the first commit; a database commits every write itself.

    Raises:
        BadInput: the URL is unusable.
    """
    if is_journal(url):
        path = journal_path(url)
        if path.parent and not path.parent.exists():
            raise BadInput("--storage", "", f"the folder of {str(path)!r} does not exist")
        backend = GroupCommitJournal(str(path))
        return RunStorage(JournalStorage(backend), backend.commit)
    return RunStorage(open_storage(url), lambda: None)


def describe(url: str) -> str:
    """A one-line description of the storage for progress output."""
    if is_journal(url):
        return f"journal file {journal_path(url)}"
    return url


def study_names(storage: BaseStorage) -> list[str]:
    """Names of the studies held by ``storage``.

    Reads the studies only, not their trials (``optuna.get_all_study_summaries`` copies every
    trial of every study: 15 s for a study of 20,000 trials).
    """
    return [s.study_name for s in storage.get_all_studies()]


def load_study(storage: BaseStorage, name: str, url: str) -> optuna.Study:
    """Load study ``name``.

    Raises:
        BadInput: no such study (the message lists the studies present).
    """
    names = study_names(storage)
    if name not in names:
        listed = ", ".join(names) if names else "none"
        raise BadInput(url, name, f"no such study; studies in this storage: {listed}")
    return optuna.load_study(study_name=name, storage=storage)
