"""Reading one study of a journal file as columns, without Optuna's replay of every record.

Opening a study through Optuna's ``JournalStorage`` replays every record of the file into
``FrozenTrial`` objects. A 100,000-trial study (a 200 MB file) takes about 3-5 s that way, most
of it decoding parameters, distributions and attributes of trials of which a front needs only
the objective values and the constraint metrics. ``scan`` reads the file once with a
schema-directed decoder (``msgspec``: it builds only the fields ``_Record`` names and skips the
rest of each record without making objects of it): per trial its id, state, objective values
and stored ``metrics``; the study records in full. The ``FrozenTrial`` of a trial is built on
demand from its own record (``ScannedStudy.frozen``), exactly as Optuna's replay builds it.

The scan follows the replay's rules (``optuna.storages.journal._storage``,
``JournalStorageReplayResult``): study ids count the studies created, a second study of an
existing name is ignored, a deleted study's trials keep their ids, trial ids count the trials
created in a study that existed, and a trial's number counts the trials of its study before
it. A record after a torn last line is not part of the journal yet (the line has no newline).

What the scan does not model it refuses with ``NotColumnar``, and the caller opens the study
through Optuna instead: a trial of the study changed after its creation (parameters, state,
values or attributes written as separate records, as plain Optuna's ``study.optimize`` writes
them), a COMPLETE trial without one value per objective, or a record it cannot decode; and,
when a view needs a constraint's metric (``ScannedStudy.metric_table``), a COMPLETE trial
without it in its one ``metrics`` attribute.
``run.mirror`` writes every finished trial as one record with its metrics, so the studies
``policysearch run`` writes are always read this way.
"""

from __future__ import annotations

import bisect
import datetime
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec
import numpy as np
from optuna.storages.journal._storage import JournalOperation
from optuna.study import StudyDirection
from optuna.trial import FrozenTrial, TrialState

from policysearch.run.records import METRICS_ATTR
from policysearch.run.storage.journal_replay import cached_distribution, gc_paused, loads

_TRIAL_UPDATES = frozenset(
    {
        JournalOperation.SET_TRIAL_PARAM,
        JournalOperation.SET_TRIAL_STATE_VALUES,
        JournalOperation.SET_TRIAL_INTERMEDIATE_VALUE,
        JournalOperation.SET_TRIAL_USER_ATTR,
        JournalOperation.SET_TRIAL_SYSTEM_ATTR,
    }
)


class NotColumnar(Exception):
    """The journal holds records of the study that ``scan`` does not model (module doc)."""


class _TrialAttrs(msgspec.Struct):
    # kept undecoded (a slice of the record): decoded later for the few metrics a view needs
    metrics: msgspec.Raw = msgspec.field(default=msgspec.Raw(), name=METRICS_ATTR)


class _Record(msgspec.Struct):
    """The fields of a journal record that ``scan`` reads; every other field is skipped."""

    op_code: int
    study_id: int = -1
    trial_id: int = -1
    study_name: str | None = None
    directions: list[int] | None = None
    user_attr: dict[str, Any] | None = None
    system_attr: dict[str, Any] | None = None
    state: int = int(TrialState.RUNNING)  # the replay's default for a created trial
    value: float | None = None  # a single-objective trial written by Optuna: values is null
    values: list[float] | None = None
    user_attrs: _TrialAttrs | None = None
    datetime_complete: str | None = None
    # kept undecoded: ``analysis.knobs`` decodes them for the views that draw the knobs
    params: msgspec.Raw = msgspec.Raw()
    distributions: msgspec.Raw = msgspec.Raw()


class RunRecord(_Record):
    """What a resumed run reads of each record (``run.storage.journal_open``): ``_Record``'s
    fields and the rest of what a sampler's copy of a trial holds; the metrics stay
    undecoded."""

    datetime_start: str | None = None
    system_attrs: dict[str, Any] | None = None
    intermediate_values: dict[str, Any] | None = None


_DECODER = msgspec.json.Decoder(_Record)
_NO_METRICS = msgspec.Raw()


@dataclass
class _Study:
    study_id: int
    name: str
    directions: list[int]
    user_attrs: dict[str, Any] = field(default_factory=dict)
    system_attrs: dict[str, Any] = field(default_factory=dict)
    lines: list[int] = field(default_factory=list)  # line of each trial's creation record
    trial_ids: list[int] = field(default_factory=list)
    states: list[int] = field(default_factory=list)
    values: list[list[float] | None] = field(default_factory=list)
    metrics: list[msgspec.Raw] = field(default_factory=list)
    completed: list[str | None] = field(default_factory=list)  # ``datetime_complete``
    params: list[msgspec.Raw] = field(default_factory=list)
    distributions: list[msgspec.Raw] = field(default_factory=list)
    records: list[Any] = field(default_factory=list)  # each trial's creation record
    updated: bool = False  # a trial of the study was changed by a later record


@dataclass
class Replayed:
    """The replay's state after every record of a journal (``replay``).

    Attributes:
        live: the studies not deleted, by id.
        trial_study: by trial id, the study the trial was created in (deleted ones included).
        trial_number: by trial id, its number in that study.
        studies_created: how many study ids were handed out.
        updated: some trial (of any study) was changed by a record after its creation.
        lines: the records replayed.
    """

    live: dict[int, _Study]
    trial_study: list[_Study]
    trial_number: list[int]
    studies_created: int
    updated: bool
    lines: int


@dataclass(frozen=True, eq=False)
class ScannedStudy:
    """One study of a journal file, its trials as columns (index = trial number).

    Attributes:
        study_name: the study's name.
        study_id: its id in the journal.
        directions: its objectives' directions.
        user_attrs: the study's user attributes (what ``run.study_meta`` stored).
        system_attrs: the study's system attributes.
        states: per trial, its ``TrialState`` value.
        values: per trial, its objective values (``None`` unless finished).
    """

    study_name: str
    study_id: int
    directions: list[StudyDirection]
    user_attrs: dict[str, Any]
    system_attrs: dict[str, Any]
    states: np.ndarray
    values: list[list[float] | None]
    _metrics: list[msgspec.Raw]
    _completed: list[str | None]
    _trial_ids: list[int]
    _lines: list[int]
    _data: JournalLines
    _params: list[msgspec.Raw] = field(default_factory=list)
    _distributions: list[msgspec.Raw] = field(default_factory=list)

    def raw_params(self, numbers: Sequence[int]) -> tuple[list[msgspec.Raw], list[msgspec.Raw]]:
        """The stored ``params`` and ``distributions`` JSON of trials ``numbers``, undecoded
        (an empty ``msgspec.Raw`` where the record has none)."""
        return [self._params[n] for n in numbers], [self._distributions[n] for n in numbers]

    def metric_table(self, numbers: Sequence[int], names: Sequence[str]) -> np.ndarray:
        """The stored metrics ``names`` of trials ``numbers``, one row per trial.

        Raises:
            NotColumnar: a trial has no ``metrics`` attribute, or it lacks one of them or is
                not a mapping of numbers (Optuna's replay then reads the study).
        """
        fields = [(f"m{i}", float, msgspec.field(name=name)) for i, name in enumerate(names)]
        decoder = msgspec.json.Decoder(msgspec.defstruct("Metrics", fields))
        astuple = msgspec.structs.astuple
        # trials that share one stored text (the same policy evaluated again: the scan keeps
        # one copy of each distinct text) are decoded once
        decoded: dict[int, tuple] = {}
        rows = []
        try:
            for number in numbers:
                raw = self._metrics[number]
                row = decoded.get(id(raw))
                if row is None:
                    row = decoded[id(raw)] = astuple(decoder.decode(raw))
                rows.append(row)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise NotColumnar(f"stored metrics the scan cannot read: {exc}") from None
        return np.array(rows, dtype=float).reshape(len(numbers), len(names))

    def last_complete(self) -> datetime.datetime | None:
        """The latest ``datetime_complete`` of the study's trials, local time as Optuna gives."""
        texts = [t for t in self._completed if t is not None]
        if not texts:
            return None
        try:  # as written by Optuna: every time with its UTC offset
            return _local_time(max(map(datetime.datetime.fromisoformat, texts)).isoformat())
        except TypeError:  # some without an offset: compare them as Optuna's replay reads them
            return max(map(_local_time, texts))  # type: ignore[type-var]

    def frozen(self, numbers: Sequence[int]) -> list[FrozenTrial]:
        """The ``FrozenTrial`` of each trial number, built from its record as Optuna does."""
        lines = self._data.get({self._lines[n] for n in numbers})
        return [_frozen_trial(loads(lines[self._lines[n]]), self._trial_ids[n], n) for n in numbers]


def scan(path: Path, study_name: str) -> ScannedStudy | None:
    """Read study ``study_name`` of the journal file ``path`` (``None``: no such study).

    Raises:
        NotColumnar: the file holds records of the study that the scan does not model, or
            records it cannot decode (the module doc); Optuna's replay reads those.
    """
    data, live = _read(path)
    study = next((s for s in live.values() if s.name == study_name), None)
    return None if study is None else scanned_study(study, data)


def scan_every(path: Path) -> list[tuple[str, ScannedStudy | NotColumnar]]:
    """Every study of the journal file ``path`` in creation order, scanned in one read: the
    study, or why the scan does not model it (a ``NotColumnar``: Optuna reads that one).

    Raises:
        NotColumnar: the file holds records the scan cannot decode.
    """
    data, live = _read(path)
    out: list[tuple[str, ScannedStudy | NotColumnar]] = []
    for study in live.values():
        try:
            out.append((study.name, scanned_study(study, data)))
        except NotColumnar as why:
            out.append((study.name, why))
    return out


CHUNK_BYTES = 16 << 20
"""How much of the file ``_read`` decodes at a time (the whole file is never held at once)."""


class JournalLines:
    """Where a scanned journal's lines are read back from (``ScannedStudy.frozen``): the bytes
    that were read (``data``; ``more``: bytes read later, each with its first line number, in
    order: a run's own records after the opening, not copied onto ``data``), or the file, by
    the chunks it was read in (``chunks``: the byte offset and the first line of each, in
    order)."""

    def __init__(
        self,
        data: bytes | None = None,
        path: Path | None = None,
        chunks: Sequence = (),
        more: Sequence[tuple[int, bytes]] = (),
    ) -> None:
        self._data, self._path, self._chunks = data, path, list(chunks)
        self._more = list(more)

    def get(self, wanted: set[int]) -> dict[int, bytes]:
        """The text of each line in ``wanted`` (0-based), without its newline."""
        if self._data is not None:
            segments = [(0, self._data), *self._more]
            firsts = [first for first, _ in segments]
            by_segment: dict[int, set[int]] = {}
            for line in wanted:
                by_segment.setdefault(bisect.bisect_right(firsts, line) - 1, set()).add(line)
            found: dict[int, bytes] = {}
            for index, lines in by_segment.items():
                first, data = segments[index]
                found.update(_lines_of(data, first, lines))
            return found
        out: dict[int, bytes] = {}
        firsts = [first for _, first in self._chunks]
        by_chunk: dict[int, set[int]] = {}
        for line in wanted:
            by_chunk.setdefault(bisect.bisect_right(firsts, line) - 1, set()).add(line)
        assert self._path is not None
        with open(self._path, "rb") as f:
            for index, lines in sorted(by_chunk.items()):
                offset, first = self._chunks[index]
                f.seek(offset)
                if index + 1 < len(self._chunks):
                    data = f.read(self._chunks[index + 1][0] - offset)
                else:
                    data = f.read()
                out.update(_lines_of(data, first, lines))
        return out


def _lines_of(data: bytes, first: int, wanted: set[int]) -> dict[int, bytes]:
    """Lines ``wanted`` of ``data``, whose first line is line ``first``."""
    out: dict[int, bytes] = {}
    position, line = 0, first
    last = max(wanted, default=first - 1)
    while line <= last:
        end = data.index(b"\n", position)
        if line in wanted:
            out[line] = data[position:end]
        position, line = end + 1, line + 1
    return out


def _read(path: Path) -> tuple[JournalLines, dict[int, _Study]]:
    """The journal's complete lines (read back from the file on demand) and its live studies
    after every record.

    The file is decoded ``CHUNK_BYTES`` at a time; the undecoded fields each trial keeps
    (its metrics and parameters) are copied out of the chunk, one small ``bytes`` each (its
    distributions shared by equal text), so that no chunk outlives its decoding: a
    100,000-trial journal of 229 MB is never resident whole.
    """
    state: Replayed | None = None
    chunks: list[tuple[int, int]] = []
    shared: dict[bytes, msgspec.Raw] = {}
    offset = 0
    with open(path, "rb") as f, gc_paused():
        while block := f.read(CHUNK_BYTES):
            cut = block.rfind(b"\n") + 1
            if cut == 0:  # a line longer than a chunk: read on to its end
                if len(block) < CHUNK_BYTES:
                    break  # the end: a last line without its newline is torn, not read
                more = f.read()
                block += more
                cut = block.rfind(b"\n") + 1
                if cut == 0:
                    break
            f.seek(offset + cut)  # the next chunk starts with the line cut here
            chunks.append((offset, state.lines if state is not None else 0))
            offset += cut
            try:
                records = _DECODER.decode_lines(memoryview(block)[:cut])
            except (msgspec.DecodeError, msgspec.ValidationError) as exc:
                raise NotColumnar(f"a record the scan cannot decode: {exc}") from None
            if len(records) != block.count(b"\n", 0, cut):
                raise NotColumnar("blank lines between the records")
            first_trial = len(state.trial_study) if state is not None else 0
            state = replay(records, into=state)
            _own_copies(state, first_trial, shared)
            del records, block
    if state is None:
        state = Replayed({}, [], [], 0, False, 0)
    return JournalLines(path=path, chunks=chunks), state.live


def _own_copies(state: Replayed, first_trial: int, shared: dict[bytes, msgspec.Raw]) -> None:
    """Give the trials from id ``first_trial`` on their own copies of the undecoded fields
    (not slices of the chunk they were decoded from)."""
    starts: dict[int, tuple[_Study, int]] = {}  # per study, its first trial of the chunk
    for trial_id in range(first_trial, len(state.trial_study)):
        study = state.trial_study[trial_id]
        if id(study) not in starts:
            starts[id(study)] = (study, state.trial_number[trial_id])
    for study, start in starts.values():
        study.params[start:] = [
            msgspec.Raw(bytes(raw)) if raw else raw for raw in study.params[start:]
        ]
        # equal texts share one copy (a policy evaluated again stores the same metrics)
        for column in (study.metrics, study.distributions):
            column[start:] = [
                shared.get(text) or shared.setdefault(text, msgspec.Raw(text))
                for text in map(bytes, column[start:])
            ]


def read_records(
    path: Path, decoder: msgspec.json.Decoder, *, keep: bool = False
) -> tuple[bytes, Replayed]:
    """The journal's complete lines, and the replay of its records decoded by ``decoder``
    (``keep``: each study keeps its trials' records).

    Raises:
        NotColumnar: a record the decoder cannot read, or blank lines.
    """
    data = path.read_bytes()
    data = data[: data.rfind(b"\n") + 1]  # a torn last line is not part of the journal yet
    view = memoryview(data)
    state = Replayed({}, [], [], 0, False, 0)
    start = 0
    with gc_paused():  # many small objects, no cycles
        # decoded and replayed CHUNK_BYTES at a time: the records of a chunk are replayed
        # while they are still in the processor's caches
        while start < len(data):
            end = data.rfind(b"\n", start, start + CHUNK_BYTES) + 1
            if end <= start:  # a line longer than a chunk
                end = data.index(b"\n", start) + 1
            try:
                records = decoder.decode_lines(view[start:end])
            except (msgspec.DecodeError, msgspec.ValidationError) as exc:
                raise NotColumnar(f"a record the scan cannot decode: {exc}") from None
            if len(records) != data.count(b"\n", start, end):
                raise NotColumnar("blank lines between the records")
            replay(records, keep=keep, into=state)
            start = end
    return data, state


def scanned_study(study: _Study, data: JournalLines) -> ScannedStudy:
    """The columns of one live study, or ``NotColumnar`` (module doc)."""
    if study.updated:
        raise NotColumnar("trials changed after their creation record")
    states = np.array(study.states, dtype=np.int8)
    complete = states == TrialState.COMPLETE.value
    width = len(study.directions)
    for n in np.flatnonzero(complete):
        values = study.values[n]
        if values is None or len(values) != width:
            raise NotColumnar("a finished trial without one value per objective")
    return ScannedStudy(
        study_name=study.name,
        study_id=study.study_id,
        directions=[StudyDirection(d) for d in study.directions],
        user_attrs=study.user_attrs,
        system_attrs=study.system_attrs,
        states=states,
        values=study.values,
        _metrics=study.metrics,
        _completed=study.completed,
        _trial_ids=study.trial_ids,
        _lines=study.lines,
        _data=data,
        _params=study.params,
        _distributions=study.distributions,
    )


def replay(records: list[_Record], *, keep: bool = False, into: Replayed | None = None) -> Replayed:
    """The studies after every record (the replay's rules, module doc); ``keep``: each study
    keeps its trials' records; ``into``: the state after the records before these (it is
    updated, and returned)."""
    state = into or Replayed({}, [], [], 0, False, 0)
    live, trial_study, trial_number = state.live, state.trial_study, state.trial_number
    next_study, updated = state.studies_created, state.updated
    for line, record in enumerate(records, start=state.lines):
        op = record.op_code
        if op == JournalOperation.CREATE_TRIAL:
            study = live.get(record.study_id)
            if study is None:
                continue
            study.lines.append(line)
            study.trial_ids.append(len(trial_study))
            study.states.append(record.state)
            values = record.values
            if values is None and record.value is not None:
                values = [record.value]  # what FrozenTrial.values gives then
            study.values.append(values)
            attrs = record.user_attrs
            study.metrics.append(attrs.metrics if attrs is not None else _NO_METRICS)
            study.completed.append(record.datetime_complete)
            study.params.append(record.params)
            study.distributions.append(record.distributions)
            if keep:
                study.records.append(record)
            trial_number.append(len(study.trial_ids) - 1)
            trial_study.append(study)
        elif op in _TRIAL_UPDATES:
            if 0 <= record.trial_id < len(trial_study):
                trial_study[record.trial_id].updated = updated = True
        elif op == JournalOperation.CREATE_STUDY:
            if record.study_name is None or record.directions is None:
                raise NotColumnar(f"line {line + 1}: a study record without name or directions")
            if all(s.name != record.study_name for s in live.values()):
                live[next_study] = _Study(next_study, record.study_name, record.directions)
                next_study += 1
        elif op == JournalOperation.DELETE_STUDY:
            live.pop(record.study_id, None)
        elif op == JournalOperation.SET_STUDY_USER_ATTR:
            if record.study_id in live and record.user_attr is not None:
                live[record.study_id].user_attrs.update(record.user_attr)
        elif op == JournalOperation.SET_STUDY_SYSTEM_ATTR:
            if record.study_id in live and record.system_attr is not None:
                live[record.study_id].system_attrs.update(record.system_attr)
        elif op != JournalOperation.DISCARD_TRIALS:
            raise NotColumnar(f"line {line + 1}: unknown operation {op}")
    state.studies_created, state.updated = next_study, updated
    state.lines += len(records)
    return state


def _frozen_trial(log: dict[str, Any], trial_id: int, number: int) -> FrozenTrial:
    """Optuna's replay of one create-trial record (``_apply_create_trial``), field by field."""
    distributions = {k: cached_distribution(v) for k, v in log.get("distributions", {}).items()}
    params = {k: distributions[k].to_external_repr(p) for k, p in log.get("params", {}).items()}
    return FrozenTrial(
        trial_id=trial_id,
        number=number,
        state=TrialState(log.get("state", TrialState.RUNNING.value)),
        params=params,
        distributions=distributions,
        user_attrs=log.get("user_attrs", {}),
        system_attrs=log.get("system_attrs", {}),
        value=log.get("value"),
        intermediate_values={int(k): v for k, v in log.get("intermediate_values", {}).items()},
        datetime_start=_local_time(log["datetime_start"]),
        datetime_complete=_local_time(log.get("datetime_complete")),
        values=log.get("values"),
    )


def _local_time(text: str | None) -> datetime.datetime | None:
    if text is None:
        return None
    return datetime.datetime.fromisoformat(text).astimezone().replace(tzinfo=None)
