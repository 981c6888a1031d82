"""Opening a big journal fast: Optuna's replay, minus the work it repeats for every trial.

Optuna's ``JournalStorage`` rebuilds a study by replaying every record of the file. For a trial
written as one record (``run.mirror`` writes finished trials that way), most of the replay's
time goes into parsing the same four or five distribution descriptions again for every trial
(a JSON parse and a class lookup each) and into decoding each record with the standard
``json`` module. ``FastJournalStorage`` replays the same records into the same state, with:

* distributions parsed once per distinct description (they are immutable objects, so trials
  may share them); the replay's call of ``json_to_distribution`` lets an already parsed
  distribution pass through (the module-level name is wrapped once, at import; a string still
  goes to Optuna's parser);
* records decoded with ``orjson`` when it is installed (three to four times faster than
  ``json``; the same values), with ``json`` otherwise;
* the cyclic garbage collector paused while the records are replayed (they allocate hundreds
  of thousands of objects and no cycles).

Everything else is Optuna's own code path, so the storage behaves exactly as Optuna's does
(a test compares the replayed trials of both).
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
from collections.abc import Generator, Iterator
from functools import lru_cache
from typing import Any

from optuna.distributions import BaseDistribution, json_to_distribution
from optuna.storages import JournalStorage
from optuna.storages.journal import JournalFileBackend
from optuna.storages.journal import _storage as _storage_module
from optuna.storages.journal._storage import JournalStorageReplayResult

try:  # an optional speed-up, not a dependency
    import orjson

    loads = orjson.loads
except ImportError:  # pragma: no cover - depends on the environment
    loads = json.loads


@lru_cache(maxsize=4096)
def cached_distribution(text: str) -> BaseDistribution:
    """The distribution a journal record describes, parsed once per distinct text (immutable)."""
    return json_to_distribution(text)


class _FastReplay(JournalStorageReplayResult):
    """Optuna's replay; a trial record's distributions come from the parsed-once cache."""

    def _apply_create_trial(self, log: dict[str, Any]) -> None:
        if "distributions" in log:
            log = dict(log)
            log["distributions"] = {
                k: cached_distribution(v) for k, v in log["distributions"].items()
            }
        super()._apply_create_trial(log)


_parent_json_to_distribution = _storage_module.json_to_distribution


def _passthrough(value: Any) -> BaseDistribution:
    if isinstance(value, BaseDistribution):
        return value
    return _parent_json_to_distribution(value)


class FastFileBackend(JournalFileBackend):
    """Optuna's file backend, decoding records with ``orjson`` when it is installed."""

    def read_logs(self, log_number_from: int) -> Generator[dict[str, Any], None, None]:
        if loads is json.loads:
            yield from super().read_logs(log_number_from)
            return
        with open(self._file_path, "rb") as f:
            remaining = os.stat(self._file_path).st_size
            start = 0
            if log_number_from in self._log_number_offset:
                f.seek(self._log_number_offset[log_number_from])
                start = log_number_from
                remaining -= self._log_number_offset[log_number_from]
            last_error: Exception | None = None
            for number, line in enumerate(f, start=start):
                remaining -= len(line)
                if remaining < 0:
                    break
                if last_error is not None:
                    raise last_error
                if not line.endswith(b"\n"):
                    last_error = ValueError("Invalid log format.")
                    continue
                if number + 1 not in self._log_number_offset:
                    self._log_number_offset[number + 1] = self._log_number_offset[number] + len(
                        line
                    )
                if number < log_number_from:
                    continue
                try:
                    yield loads(line)
                except ValueError as err:  # orjson.JSONDecodeError is a ValueError
                    last_error = err
                    del self._log_number_offset[number + 1]


class FastJournalStorage(JournalStorage):
    """A ``JournalStorage`` whose replay skips repeated work (see the module docstring)."""

    def __init__(self, backend: JournalFileBackend) -> None:
        self._worker_id_prefix = ""  # set by the parent; the replay object needs one first
        with gc_paused():
            super().__init__(backend)

    def _sync_with_backend(self) -> None:
        if type(self._replay_result) is JournalStorageReplayResult:
            fast = _FastReplay(self._worker_id_prefix)
            fast.__dict__.update(self._replay_result.__dict__)
            self._replay_result = fast
        super()._sync_with_backend()


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic collector: reading many trials allocates many objects, no cycles."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


# The parent's create-trial replay calls the module's ``json_to_distribution`` on each value;
# values that are already distributions (from the cache) pass through unchanged.
_storage_module.json_to_distribution = _passthrough
