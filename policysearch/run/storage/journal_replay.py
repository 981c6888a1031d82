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
  of thousands of objects and no cycles);
* a trial's creation record applied by ``_FastReplay._apply_create_trial``: Optuna's steps in
  Optuna's order, with the distributions of a record parsed once per distinct set, the times
  converted to local time through a cached shift per hour (``local_time``), and this
  process's worker id computed once per replay instead of once per record;
* the file read in one piece, records cut at newlines, and only the end of what was read
  noted as a record offset (Optuna's backend notes the offset of every record: a read
  always continues from the end).

Everything else is Optuna's own code path, so the storage behaves exactly as Optuna's does
(a test compares the replayed trials of both).
"""

from __future__ import annotations

import contextlib
import datetime
import gc
import json
from collections.abc import Generator, Iterable, Iterator
from functools import lru_cache
from typing import Any

import numpy as np
from optuna.distributions import BaseDistribution, json_to_distribution
from optuna.storages import JournalStorage
from optuna.storages.journal import JournalFileBackend
from optuna.storages.journal import _storage as _storage_module
from optuna.storages.journal._storage import JournalOperation, JournalStorageReplayResult
from optuna.trial import FrozenTrial, TrialState

try:  # an optional speed-up, not a dependency
    import orjson

    loads = orjson.loads
except ImportError:  # pragma: no cover - depends on the environment
    loads = json.loads


@lru_cache(maxsize=4096)
def cached_distribution(text: str) -> BaseDistribution:
    """The distribution a journal record describes, parsed once per distinct text (immutable)."""
    return json_to_distribution(text)


_HOUR = datetime.timedelta(hours=1)
_MISSING = object()
_shifts: dict[str, datetime.timedelta | None] = {}


def local_time(text: str) -> datetime.datetime:
    """``datetime.fromisoformat(text).astimezone().replace(tzinfo=None)``, as Optuna's replay
    reads a record's time, faster for the times Optuna writes (``2026-12-07T03:10:33.294356
    +00:00``): the shift from the written offset to the local one is looked up once per hour
    of written time. An hour whose start and end have different local offsets (a
    daylight-saving change) and any other form of time are converted time by time."""
    if len(text) == 32 and text[26] in "+-":
        key = text[:13] + text[26:]
        shift = _shifts.get(key, _MISSING)
        if shift is _MISSING:
            shift = _shifts[key] = _shift(key)
        if shift is not None:
            return datetime.datetime.fromisoformat(text[:26]) + shift  # type: ignore[operator]
    return datetime.datetime.fromisoformat(text).astimezone().replace(tzinfo=None)


def local_times(texts: list[str]) -> list[datetime.datetime]:
    """``local_time`` of each text, in bulk: the times Optuna writes (UTC, ``+00:00``) are
    parsed by NumPy and shifted by each written hour's ``_shift``; any other form, or an hour
    of a daylight-saving change, and every time is converted one by one."""
    written = np.array(texts, dtype=str)
    if (
        not texts
        or written.dtype != np.dtype("<U32")
        or not np.all(np.char.endswith(written, "+00:00"))
    ):
        return [local_time(t) for t in texts]
    stamps = written.astype("<U26").astype("datetime64[us]")
    hours, inverse = np.unique(stamps.astype("datetime64[h]"), return_inverse=True)
    shifts = []
    for hour in hours.tolist():  # datetime.datetime, on the hour
        key = hour.strftime("%Y-%m-%dT%H") + "+00:00"
        shift = _shifts.get(key, _MISSING)
        if shift is _MISSING:
            shift = _shifts[key] = _shift(key)
        if shift is None:
            return [local_time(t) for t in texts]
        shifts.append(shift)
    local = stamps + np.array(shifts, dtype="timedelta64[us]")[inverse]
    return local.astype(object).tolist()


def _shift(key: str) -> datetime.timedelta | None:
    """Local time minus written time through the written hour ``key`` (``None``: it changes)."""
    start = datetime.datetime.fromisoformat(key[:13] + ":00:00" + key[13:])
    local = start.astimezone().utcoffset()
    # the end is the first instant of the next hour: a change exactly then (the usual case)
    # makes the offsets differ too, and this hour is converted time by time
    if local is None or (start + _HOUR).astimezone().utcoffset() != local:
        return None
    return local - start.utcoffset()  # type: ignore[operator]


@lru_cache(maxsize=256)
def _parsed(pairs: tuple[tuple[str, str], ...]) -> dict[str, BaseDistribution]:
    return {name: cached_distribution(text) for name, text in pairs}


_CREATE_TRIAL = int(JournalOperation.CREATE_TRIAL)
_RUNNING = TrialState.RUNNING.value
_STATES = {state.value: state for state in TrialState}


class _FastReplay(JournalStorageReplayResult):
    """Optuna's replay with a faster trial creation (module doc); every other record as Optuna."""

    _worker_now: str | None = None

    def apply_logs(self, logs: Iterable[dict[str, Any]]) -> None:
        self._worker_now = self.worker_id  # one thread replays: the same id for every record
        parent = super().apply_logs
        try:
            for log in logs:  # a trial's creation straight to its method, the rest as Optuna
                if log["op_code"] == _CREATE_TRIAL:
                    self.log_number_read += 1
                    self._apply_create_trial(log)
                else:
                    parent((log,))
        finally:
            self._worker_now = None

    def _is_issued_by_this_worker(self, log: dict[str, Any]) -> bool:
        return log["worker_id"] == (self._worker_now or self.worker_id)

    def _apply_create_trial(self, log: dict[str, Any]) -> None:
        # optuna.storages.journal._storage.JournalStorageReplayResult._apply_create_trial
        study_id = log["study_id"]
        if study_id not in self._studies and not self._study_exists(study_id, log):
            return
        trial_id = len(self._trials)
        distributions: dict[str, BaseDistribution] = {}
        if "distributions" in log:
            distributions = dict(_parsed(tuple(log["distributions"].items())))
        params = {}
        if "params" in log:
            params = {k: distributions[k].to_external_repr(p) for k, p in log["params"].items()}
        start = log["datetime_start"]
        complete = log.get("datetime_complete")
        numbers = self._study_id_to_trial_ids[study_id]
        steps = log.get("intermediate_values")
        trial = FrozenTrial(
            trial_id=trial_id,
            number=len(numbers),
            state=_STATES[log.get("state", _RUNNING)],
            params=params,
            distributions=distributions,
            user_attrs=log.get("user_attrs", {}),
            system_attrs=log.get("system_attrs", {}),
            value=log.get("value"),
            intermediate_values={int(k): v for k, v in steps.items()} if steps else {},
            datetime_start=None if start is None else local_time(start),
            datetime_complete=None if complete is None else local_time(complete),
            values=log.get("values"),
        )
        self._trials[trial_id] = trial
        numbers.append(trial_id)
        self._trial_id_to_study_id[trial_id] = study_id
        if self._is_issued_by_this_worker(log):
            self._last_created_trial_id_by_this_process = trial_id
            if trial.state == TrialState.RUNNING:
                self._worker_id_to_owned_trial_id[self.worker_id] = trial_id


_parent_json_to_distribution = _storage_module.json_to_distribution


def _passthrough(value: Any) -> BaseDistribution:
    if isinstance(value, BaseDistribution):
        return value
    return _parent_json_to_distribution(value)


class FastFileBackend(JournalFileBackend):
    """Optuna's file backend, decoding records with ``orjson`` when it is installed."""

    def read_logs(self, log_number_from: int) -> Generator[dict[str, Any], None, None]:
        """Optuna's ``JournalFileBackend.read_logs``: the same records, the same errors.

        A line without its newline (a record being written) ends the read; a record that
        cannot be decoded raises once more bytes follow it (the last line may be torn).
        """
        if loads is json.loads:
            yield from super().read_logs(log_number_from)
            return
        start = log_number_from if log_number_from in self._log_number_offset else 0
        offset = self._log_number_offset[start]
        with open(self._file_path, "rb") as f:
            f.seek(offset)
            data = f.read()
        view = memoryview(data)
        position, number = 0, start  # the start of line ``number``
        try:
            while (end := data.find(b"\n", position)) >= 0:
                line = view[position:end]
                if number >= log_number_from:
                    try:
                        record = loads(line)
                    except ValueError:  # orjson.JSONDecodeError is a ValueError
                        if end + 1 < len(data):
                            raise
                        return  # a bad last line: not part of the journal yet
                    position, number = end + 1, number + 1
                    yield record
                else:
                    position, number = end + 1, number + 1
        finally:
            self._log_number_offset[number] = offset + position


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
