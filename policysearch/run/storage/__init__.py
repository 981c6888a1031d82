"""Where studies live: the one place that turns a storage argument into a storage.

A storage argument (``--storage``, a job's ``storage:``) is one of two kinds, told apart here
and nowhere else (``locate``):

* a journal file (``journal_file``): ``policysearch.journal`` (the default) or
  ``journal:PATH``; embedded, no server;
* a database URL (``database``): anything holding ``://``: ``postgresql://...`` for teams,
  ``sqlite:///studies.db``, ``mysql://...``.

Each kind is a ``Storage`` (``base``: what every kind provides). A new kind is a module with a
``Storage`` subclass and one line in ``locate``. The journal's own parts: the group-commit
writer (``journal``), the fast replay (``journal_replay``), the column-wise scan
(``journal_scan``), and its lock, torn-tail repair and path checks (``journal_guards``).
"""

from __future__ import annotations

import os

import optuna
from optuna.storages import BaseStorage

from policysearch.errors import BadInput
from policysearch.jobs.config import DEFAULT_STORAGE
from policysearch.run.storage.base import RunStorage, Storage
from policysearch.run.storage.database import Database, has_password, without_password
from policysearch.run.storage.journal_file import JournalFile

STORAGE_ENV = "POLICYSEARCH_STORAGE"
"""The environment variable naming the storage every command uses when none is given."""


def default_storage() -> str:
    """The storage a command uses without ``--storage``: ``POLICYSEARCH_STORAGE``, else
    ``DEFAULT_STORAGE``."""
    return os.environ.get(STORAGE_ENV, "").strip() or DEFAULT_STORAGE


def job_storage(given: str | None, job: str) -> str:
    """The storage a job runs on: ``--storage``, else ``POLICYSEARCH_STORAGE``, else the job's.

    The environment variable wins over the job file's ``storage`` so that ``run`` writes where
    ``front`` and the other commands, which take the same default, will read.

    Args:
        given: ``--storage`` (``None``: not given).
        job: the job's storage (its ``storage`` key, or ``DEFAULT_STORAGE``).
    """
    return given or os.environ.get(STORAGE_ENV, "").strip() or job


def pasteable(url: str) -> tuple[str, str | None]:
    """``url`` as a hint may print it so that it can be pasted back, and what the reader must
    know: a database URL loses its password (the database client reads ``PGPASSWORD`` or
    ``~/.pgpass`` instead, or ``POLICYSEARCH_STORAGE`` may hold the whole URL).

    Returns:
        The text to print, and a note when the password was left out (else ``None``).
    """
    return locate(url).pasteable


def locate(url: str) -> Storage:
    """The storage a storage argument names, of its kind (``storage.kind``).

    Args:
        url: a journal file path (optionally ``journal:PATH``) or an Optuna database URL.
    """
    if "://" in url:
        return Database(url)
    return JournalFile(url)


def open_storage(url: str, *, must_exist: bool = False) -> BaseStorage:
    """Optuna's storage for ``url`` (``Storage.open``).

    Raises:
        BadInput: the storage is missing (with ``must_exist``) or unusable.
    """
    return locate(url).open(must_exist=must_exist)


def redact(url: str) -> str:
    """``url`` as users may see it: ``postgresql://user:***@host:5432/db``; a journal path and a
    URL without a password come back unchanged."""
    return locate(url).shown


def describe(url: str) -> str:
    """A one-line description of the storage for progress output (its password hidden)."""
    return locate(url).description


def study_names(storage: BaseStorage) -> list[str]:
    """Names of the studies held by ``storage``.

    Reads the studies only, not their trials (``optuna.get_all_study_summaries`` copies every
    trial of every study: 15 s for a study of 20,000 trials).
    """
    return [s.study_name for s in storage.get_all_studies()]


def has_study(storage: BaseStorage, name: str) -> bool:
    """Whether ``storage`` holds a study named ``name`` (without copying any study)."""
    try:
        storage.get_study_id_from_name(name)
    except KeyError:
        return False
    return True


def load_study(storage: BaseStorage, name: str, url: str) -> optuna.Study:
    """Load study ``name``.

    Raises:
        BadInput: no such study (the message lists the studies present).
    """
    names = study_names(storage)
    if name not in names:
        listed = ", ".join(names) if names else "none"
        raise BadInput(redact(url), name, f"no such study; studies in this storage: {listed}")
    return optuna.load_study(study_name=name, storage=storage)


__all__ = [
    "DEFAULT_STORAGE",
    "STORAGE_ENV",
    "RunStorage",
    "Storage",
    "default_storage",
    "describe",
    "has_password",
    "has_study",
    "job_storage",
    "load_study",
    "locate",
    "open_storage",
    "pasteable",
    "redact",
    "study_names",
    "without_password",
]
