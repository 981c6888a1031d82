"""The study a run searches in memory, and the durable study it writes finished trials to.

Optuna's storages write a trial field by field: an ask, each parameter, each attribute, each
constraint and the tell are separate storage operations, each a journal record with its own
fsync (or a database transaction). The driver instead asks and tells on an in-memory copy of
the study, as fast as plain Optuna in memory, and writes each finished trial to the durable
storage as ONE record (``BaseStorage.create_new_trial(study_id, template_trial=...)``), the
records of a batch with one commit (``run.storage.journal``: one fsync).

Rules:

* On opening, the memory copy receives every finished trial of the durable study, in order, so
  the sampler sees the whole history. A journal opened from its scan hands them over without
  their user attributes (metrics, seed): nothing in a run reads those of a stored trial.
* Trials are persisted in the order they were asked (the driver tells in that order). With one
  driver, a trial therefore has the same number in memory and on disk.
* Only finished trials (COMPLETE or FAIL) reach the durable storage; a trial counts as
  finished once the commit that carries it returns. A killed run leaves nothing RUNNING
  behind; what it had not committed is simply not there, and the next run asks again.
* Several drivers on one study (a database storage, ``shared``): ``refresh()`` adds to the
  memory copy the finished trials the others wrote since the last look, so the sampler learns
  from them and ``complete`` counts the study's COMPLETE trials, not only this driver's. Each
  driver still writes each of its own trials as exactly one record, and never copies back a
  trial it read, so no trial is stored or counted twice. Trial numbers then differ between the
  memory copy and the storage (each side numbers in the order it saw the trials); the stored
  number is the study's. On the first trials of another driver, the sampler's random
  generator is reseeded (Optuna's ``BaseSampler.reseed_rng``, as for ``n_jobs > 1``), so that
  two drivers started with the same seed stop proposing the same points. The window asked
  before that first sight (at most one window per driver) may repeat the other's points.
* A generational sampler's parent populations (NSGA-II: ``NSGAIISampler:parent:<generation>``,
  a study system attribute listing trial ids, as Optuna's sampler stores them on any storage)
  are written to the durable study with the commit after their selection, as durable trial
  ids; on opening, the memory copy receives those stored, so a resume reads the parents of its
  generation instead of selecting those of every generation again. The memory copy itself is a
  ``run.memory.MemoryStorage``: the finished trials are loaded in bulk, without Optuna's deep
  copy and validation of each.
* A journal file has one driver (``run.storage.journal`` refuses a second writer):
  ``refresh()`` does nothing there, so a single run costs nothing more and stays deterministic.
* A database that stops answering mid-run (a server restart): each write and each refresh is
  retried with backoff for a bounded time (``run.storage.outage``). A trial's write is one
  transaction that a retry never repeats once it landed (``run.storage.rdb_write``: a token
  in the trial, looked for before writing again), so a trial is stored exactly once.
"""

from __future__ import annotations

from collections.abc import Callable

import optuna
from optuna.storages import RDBStorage
from optuna.trial import FrozenTrial, TrialState

from policysearch.run.memory import MemoryStorage
from policysearch.run.storage.journal_replay import gc_paused
from policysearch.run.storage.outage import OutageRetry, through
from policysearch.run.storage.rdb_write import tagged, write_trial

_FINISHED = (TrialState.COMPLETE, TrialState.FAIL)


class MirroredStudy:
    """An in-memory study to search, backed by a durable one (see the module docstring).

    Attributes:
        durable: the stored study (what ``front``, ``report`` and the dashboard read).
        memory: the in-memory study the driver asks and tells.
        shared: other drivers may write to the durable study (a database storage).
        outage: waits out a database that stops answering (``None``: no retry).
        complete: COMPLETE trials in the memory copy: the durable study's as of the last
            ``refresh()``, plus this driver's own told since.
        foreign: trials of other drivers added by ``refresh()`` so far.

    ``stored``: the durable study's trials as the caller read them already (a journal's
    column-wise opening, ``run.storage.journal_open``: without user attributes); ``None``:
    read from ``durable``.
    """

    def __init__(
        self,
        durable: optuna.Study,
        sampler: optuna.samplers.BaseSampler,
        commit: Callable[[], None],
        outage: OutageRetry | None = None,
        stored: list[FrozenTrial] | None = None,
    ) -> None:
        self.durable = durable
        self.outage = outage
        self._call = through(outage)
        self._commit = commit
        self._storage = durable._storage
        self._study_id = durable._study_id
        self._memory_storage = MemoryStorage()
        self.memory = optuna.create_study(
            storage=self._memory_storage,
            directions=durable.directions,
            sampler=sampler,
            study_name=durable.study_name,
        )
        parents = getattr(sampler, "_get_parent_cache_key_prefix", None)
        self._parents_prefix: str | None = parents() if parents is not None else None
        self._to_durable: dict[int, int] = {}  # memory trial id -> durable trial id
        self._to_memory: dict[int, int] = {}  # durable trial id -> memory trial id
        # Optuna wraps a database in a cache (``_CachedStorage``); refresh asks the database.
        self._backend = getattr(self._storage, "_backend", self._storage)
        self.shared = isinstance(self._backend, RDBStorage)
        self.foreign = 0
        self.complete = 0
        self.last_added: list[FrozenTrial] = []  # the trials the last ``refresh`` took in
        self._own: set[int] = set()  # durable ids of the trials this driver wrote
        self._seen = -1  # every durable trial up to this id has been looked at
        self._unfinished: set[int] = set()  # durable trials still running when last looked at
        with gc_paused():  # many new objects, no cycles
            if stored is None:
                self._add(self._call(lambda: durable.get_trials(deepcopy=False)))
            else:
                self._add_stored(stored)
        self.last_added = []
        self._load_parents()

    def _add(self, trials: list[FrozenTrial]) -> tuple[int, int]:
        """Add the finished trials of ``trials`` not seen yet: how many, and how many COMPLETE."""
        complete = 0
        added: list[FrozenTrial] = []
        for trial in trials:
            self._seen = max(self._seen, trial._trial_id)
            if trial._trial_id in self._own:
                continue
            if trial.state not in _FINISHED:
                self._unfinished.add(trial._trial_id)
                continue
            self._unfinished.discard(trial._trial_id)
            added.append(trial)
            complete += trial.state == TrialState.COMPLETE
        ids = self._memory_storage.add_finished(self.memory._study_id, added)
        for trial, memory_id in zip(added, ids, strict=True):
            self._to_durable[memory_id] = trial._trial_id
            self._to_memory[trial._trial_id] = memory_id
        self.last_added = added
        self.complete += complete
        return len(added), complete

    def _add_stored(self, trials: list[FrozenTrial]) -> None:
        """``_add`` of the durable study's finished trials as the caller read them (nothing
        seen or written yet): the same state, in bulk."""
        durable = [t._trial_id for t in trials]
        ids = self._memory_storage.add_finished(self.memory._study_id, trials)
        self._to_durable = dict(zip(ids, durable, strict=True))
        self._to_memory = dict(zip(durable, ids, strict=True))
        self._seen = max(durable, default=-1)
        self.complete = sum(t.state == TrialState.COMPLETE for t in trials)

    def _load_parents(self) -> None:
        """Give the memory copy the parent populations stored in the durable study.

        A generational sampler (NSGA-II) stores each generation's parents as trial ids in a
        study system attribute; the memory copy numbers trials its own way, so the ids are
        translated (a population naming a trial the copy lacks is left out: it is selected
        again).
        """
        prefix = self._parents_prefix
        if prefix is None:
            return
        stored = self._call(lambda: self._storage.get_study_system_attrs(self._study_id))
        loaded = {}
        for key, ids in stored.items():
            if key.startswith(prefix) and isinstance(ids, list):
                mapped = [self._to_memory.get(i) for i in ids]
                if None not in mapped:
                    loaded[key] = mapped
        self._memory_storage.load_study_system_attrs(self.memory._study_id, loaded)

    def _write_parents(self) -> None:
        """Queue for the durable study the parent populations the sampler selected since the
        last commit, as durable trial ids (a resume reads them instead of selecting them)."""
        written, self._memory_storage.written = self._memory_storage.written, []
        prefix = self._parents_prefix
        if prefix is None:
            return
        for key, ids in written:
            if key.startswith(prefix) and isinstance(ids, list):
                mapped = [self._to_durable.get(i) for i in ids]
                if None not in mapped:  # setting an attribute twice is harmless: retried as is
                    self._call(
                        lambda k=key, m=mapped: self._storage.set_study_system_attr(
                            self._study_id, k, m
                        )
                    )

    def refresh(self) -> int:
        """Add the trials other drivers finished since the last look; the COMPLETE ones added.

        Costs one query for a database storage (Optuna's RDB storage creates a study's trials
        one at a time under a lock on the study, so its trial ids commit in increasing order
        and "ids above the last seen, plus the ones seen running" misses none), nothing for a
        journal file.
        """
        if not self.shared:
            return 0
        trials = self._call(
            lambda: self._backend._get_trials(
                self._study_id,
                states=None,
                included_trial_ids=set(self._unfinished),
                trial_id_greater_than=self._seen,
            )
        )
        trials.sort(key=lambda t: t._trial_id)
        added, complete = self._add(trials)
        if added and self.foreign == 0:
            self.memory.sampler.reseed_rng()
        self.foreign += added
        return complete

    def persist(self, frozen: FrozenTrial) -> None:
        """Queue a finished trial of the memory copy for the durable storage (one record).

        On a database the record is written at once, as one transaction, and a retried write
        finds the record if its first attempt landed (``run.storage.rdb_write``).
        """
        if self.shared:
            template, token = tagged(frozen)
            backend, study_id = self._backend, self._study_id
            trial_id = self._call(
                lambda: write_trial(backend, study_id, template, token, look_first=False),
                lambda: write_trial(backend, study_id, template, token, look_first=True),
            )
        else:
            trial_id = self._storage.create_new_trial(self._study_id, template_trial=frozen)
        self._own.add(trial_id)
        self._to_durable[frozen._trial_id] = trial_id
        self._to_memory[trial_id] = frozen._trial_id
        self.complete += frozen.state == TrialState.COMPLETE

    def commit(self) -> None:
        """Make every persisted trial durable, with the parent populations selected since the
        last commit (one fsync for a journal file)."""
        self._write_parents()
        self._commit()
