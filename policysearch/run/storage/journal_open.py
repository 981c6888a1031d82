"""Opening a journal for a run from the column-wise scan, without Optuna's replay.

A run resumes by opening the journal it writes to. Optuna's ``JournalStorage`` replays every
record into a ``FrozenTrial`` first (``journal_replay`` makes that faster, not flat): for a
100,000-trial study about 2 s of CPU, most of it decoding every trial's metrics and building
100,000 FrozenTrials the run never reads. ``open_scanned`` reads the file once with
``journal_scan``'s schema-directed decoder (``RunRecord``: the metrics are skipped, kept as an
undecoded slice) and gives

* the storage the run writes through: Optuna's ``JournalStorage`` (``FastJournalStorage``)
  with its replay state set from the scan instead of replayed (``_replay_state``): the same
  studies, attributes, trial ids and numbers, and record count; its trials are a ``LazyTrials``
  mapping that builds a trial's ``FrozenTrial`` from its own record, as Optuna's replay does,
  only when someone reads that trial. Every write (a trial, a study attribute) and every later
  read is Optuna's own code on that state, so the file written is the one Optuna writes;
* per live study, a ``StudyColumns``: its states as an array (the counts a resume needs) and
  ``finished()``, the FrozenTrials of its finished trials as the run's in-memory copy holds
  them (``run.mirror``): parameters, distributions (one shared object per distinct
  description, ``journal_replay.cached_distribution``), values, state, times, system
  attributes (NSGA-II's generation, the constraints); NOT the user attributes (the metrics and
  the seed): the sampler and the driver never read those of a stored trial, and the reading
  commands read the journal, not the memory copy.

What the scan does not model (a trial changed by a later record, as plain Optuna's
``study.optimize`` writes them; a record it cannot decode) returns ``None``: the caller replays
the journal through Optuna as before. The journal's last line must be whole (``run`` sets a
torn one aside first).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec
import numpy as np
from optuna.study._frozen import FrozenStudy
from optuna.study._study_direction import StudyDirection
from optuna.trial import FrozenTrial, TrialState

from policysearch.run.storage.journal import GroupCommitJournal
from policysearch.run.storage.journal_replay import (
    FastJournalStorage,
    _FastReplay,
    cached_distribution,
    gc_paused,
    loads,
    local_times,
)
from policysearch.run.storage.journal_scan import (
    JournalLines,
    NotColumnar,
    Replayed,
    RunRecord,
    ScannedStudy,
    _frozen_trial,
    read_records,
    replay,
    scanned_study,
)

_DECODER = msgspec.json.Decoder(RunRecord)
_STATES = {state.value: state for state in TrialState}
_FINISHED = (TrialState.COMPLETE.value, TrialState.FAIL.value)


class LazyTrials(MutableMapping[int, FrozenTrial]):
    """Optuna's replay's ``_trials`` (trial id -> FrozenTrial), each built on first read.

    Trial ids are ``0 .. len - 1`` (the replay numbers every trial it creates); a trial the
    storage stores later (``__setitem__``) or replaces (an update) is kept as given.
    """

    def __init__(self, data: bytes, replayed: Replayed) -> None:
        self._data = data
        self._replayed = replayed
        self._count = len(replayed.trial_study)
        self._built: dict[int, FrozenTrial] = {}
        self.built = 0
        """How many stored trials were built from their records."""
        self._starts: np.ndarray | None = None  # byte offset of each line, once needed
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return self._count

    def __contains__(self, trial_id: object) -> bool:
        return isinstance(trial_id, int) and 0 <= trial_id < self._count

    def __iter__(self) -> Iterator[int]:
        return iter(range(self._count))

    def __getitem__(self, trial_id: int) -> FrozenTrial:
        trial = self._built.get(trial_id)
        if trial is not None:
            return trial
        if trial_id not in self:
            raise KeyError(trial_id)
        with self._lock:
            trial = self._built.get(trial_id)
            if trial is None:
                trial = self._built[trial_id] = self._build(trial_id)
                self.built += 1
        return trial

    def __setitem__(self, trial_id: int, trial: FrozenTrial) -> None:
        self._built[trial_id] = trial
        self._count = max(self._count, trial_id + 1)

    def __delitem__(self, trial_id: int) -> None:  # the replay never deletes a trial
        raise TypeError("a journal's trials are never deleted")

    def _build(self, trial_id: int) -> FrozenTrial:
        """The trial as Optuna's replay builds it from its creation record."""
        study = self._replayed.trial_study[trial_id]
        number = self._replayed.trial_number[trial_id]
        line = study.lines[number]
        if self._starts is None:
            ends = np.flatnonzero(np.frombuffer(self._data, dtype=np.uint8) == 10)
            self._starts = np.concatenate(([0], ends[:-1] + 1))
        start = int(self._starts[line])
        end = self._data.index(b"\n", start)
        return _frozen_trial(loads(self._data[start:end]), trial_id, number)


@dataclass(frozen=True, eq=False)
class StudyColumns:
    """One live study of the journal as a resume reads it (module doc).

    Attributes:
        study_id: its id in the journal.
        trial_ids: per trial number, its trial id.
        states: per trial number, its ``TrialState`` value.
    """

    study_id: int
    trial_ids: list[int]
    states: np.ndarray
    _records: list[RunRecord]

    def count(self, state: TrialState) -> int:
        """Trials in ``state``."""
        return int(np.count_nonzero(self.states == state.value))

    def finished(self) -> list[FrozenTrial]:
        """The COMPLETE and FAIL trials, in order, as the memory copy holds them (module doc):
        Optuna's FrozenTrial of each, without its user attributes."""
        numbers = np.flatnonzero(np.isin(self.states, _FINISHED)).tolist()
        records = [self._records[n] for n in numbers]
        starts = _times([r.datetime_start for r in records])
        completes = _times([r.datetime_complete for r in records])
        ids = self.trial_ids
        parsed: dict[bytes, tuple[dict[str, Any], dict[str, Any]]] = {}
        # a parameter set is decoded once per distinct record text (and distribution set):
        # trials share it, as they share distributions (a finished trial is never changed)
        decoded: dict[tuple[bytes, bytes], dict[str, Any]] = {}
        new = FrozenTrial.__new__
        out: list[FrozenTrial] = []
        with gc_paused():
            for number, record, start, complete in zip(
                numbers, records, starts, completes, strict=True
            ):
                raw = bytes(record.distributions)
                known = parsed.get(raw)
                if known is None:
                    texts = msgspec.json.decode(raw) if raw else {}
                    dists = {k: cached_distribution(v) for k, v in texts.items()}
                    known = parsed[raw] = (dists, {k: d.to_external_repr for k, d in dists.items()})
                distributions, external = known
                key = (raw, bytes(record.params))
                params = decoded.get(key)
                if params is None:
                    internal = msgspec.json.decode(key[1]) if key[1] else {}
                    params = decoded[key] = {k: external[k](p) for k, p in internal.items()}
                values = record.values
                if values is None and record.value is not None:
                    values = [record.value]
                steps = record.intermediate_values
                trial = new(FrozenTrial)
                # FrozenTrial.__init__'s attributes, without its checks (a stored trial)
                trial.__dict__.update(
                    _number=number,
                    state=_STATES[record.state],
                    _values=values,
                    _datetime_start=start,
                    datetime_complete=complete,
                    _params=params,
                    _user_attrs={},
                    _system_attrs=record.system_attrs or {},
                    intermediate_values={int(k): v for k, v in steps.items()} if steps else {},
                    _distributions=distributions,
                    _trial_id=ids[number],
                )
                out.append(trial)
        return out


def _times(texts: list[str | None]) -> list[Any]:
    """``local_time`` of each text, ``None`` kept (``journal_replay.local_times`` in bulk)."""
    given = [t for t in texts if t is not None]
    if len(given) == len(texts):
        return local_times(given)  # type: ignore[arg-type]
    converted = iter(local_times(given))
    return [None if t is None else next(converted) for t in texts]


@dataclass(eq=False)
class ScannedJournal:
    """A journal opened for a run from its scan: the storage and each live study's columns.

    ``reread(name)`` gives the study as ``journal_scan.scan`` reads it, with the records
    appended since the opening (the run's) decoded alone: the run's closing summary reads it
    without decoding the whole file again.
    """

    path: Path
    storage: FastJournalStorage
    studies: dict[str, StudyColumns]
    _data: bytes
    _replayed: Replayed
    _tails: list[tuple[int, bytes]] = field(default_factory=list)

    def reread(self, name: str) -> ScannedStudy | None:
        """Study ``name`` as the file holds it now (``None``: the scan does not model it).

        The records appended since are kept apart from the bytes read at the opening (a
        ``JournalLines`` segment each), not copied onto them: a copy of a 200 MB journal took
        0.16 s. The stored metrics are decoded one by one where a view needs them: sharing
        equal texts first (as ``journal_scan`` does to save memory) cost more than it saved."""
        try:
            read = len(self._data) + sum(len(tail) for _, tail in self._tails)
            with open(self.path, "rb") as f:
                f.seek(read)
                tail = f.read()
            tail = tail[: tail.rfind(b"\n") + 1]
            if tail:
                first_line = self._replayed.lines
                with gc_paused():
                    records = _DECODER.decode_lines(tail)
                    if len(records) != tail.count(b"\n"):
                        return None
                    replay(records, keep=True, into=self._replayed)
                self._tails.append((first_line, tail))
            study = next((s for s in self._replayed.live.values() if s.name == name), None)
            if study is None:
                return None
            return scanned_study(study, JournalLines(self._data, more=self._tails))
        except (NotColumnar, OSError, msgspec.DecodeError, msgspec.ValidationError):
            return None


def open_scanned(path: Path, backend: GroupCommitJournal) -> ScannedJournal | None:
    """Open the journal ``path`` (written through ``backend``) from its scan; ``None``: the
    scan does not model it (module doc), or there is no file yet."""
    if not path.exists():
        return None
    try:
        data, replayed = read_records(path, _DECODER, keep=True)
    except (NotColumnar, OSError):
        return None
    if replayed.updated:
        return None
    lines = replayed.lines
    storage = FastJournalStorage.__new__(FastJournalStorage)
    storage._worker_id_prefix = ""
    storage._backend = backend
    storage._thread_lock = threading.Lock()
    storage._replay_result = _replay_state(storage, data, replayed, lines)
    backend.scanned(lines, len(data))
    studies = {
        s.name: StudyColumns(s.study_id, s.trial_ids, np.array(s.states, np.int8), s.records)
        for s in replayed.live.values()
    }
    return ScannedJournal(path, storage, studies, data, replayed)


def _replay_state(
    storage: FastJournalStorage, data: bytes, replayed: Replayed, lines: int
) -> _FastReplay:
    """Optuna's replay result after every record of the file, from the scan (module doc)."""
    import uuid

    storage._worker_id_prefix = str(uuid.uuid4()) + "-"  # as JournalStorage.__init__
    state = _FastReplay(storage._worker_id_prefix)
    state.log_number_read = lines
    state._next_study_id = replayed.studies_created
    state._trials = LazyTrials(data, replayed)  # type: ignore[assignment]
    # trial ids per study (copies: the storage appends its new trials to its own lists)
    state._study_id_to_trial_ids = {
        study.study_id: list(study.trial_ids) for study in _every_study(replayed)
    }
    state._trial_id_to_study_id = _StudyOfTrial(replayed)
    for study in replayed.live.values():
        state._studies[study.study_id] = FrozenStudy(
            study_name=study.name,
            direction=None,
            user_attrs=dict(study.user_attrs),
            system_attrs=dict(study.system_attrs),
            study_id=study.study_id,
            directions=[StudyDirection(d) for d in study.directions],
        )
    return state


def _every_study(replayed: Replayed) -> list[Any]:
    """The studies that hold trials, deleted ones included, and the live ones."""
    seen: dict[int, Any] = {id(s): s for s in replayed.live.values()}
    previous = None
    for study in replayed.trial_study:
        if study is not previous:
            seen.setdefault(id(study), study)
            previous = study
    return list(seen.values())


class _StudyOfTrial(dict):
    """Optuna's replay's ``_trial_id_to_study_id``: a stored trial's study looked up in the
    scan when first asked (Optuna asks it only for a parameter set on a trial); the storage's
    new trials are stored in the dict as Optuna stores them."""

    def __init__(self, replayed: Replayed) -> None:
        super().__init__()
        self._trial_study = replayed.trial_study
        self._stored = len(replayed.trial_study)

    def __missing__(self, trial_id: int) -> int:
        if isinstance(trial_id, int) and 0 <= trial_id < self._stored:
            return self._trial_study[trial_id].study_id
        raise KeyError(trial_id)
