"""The study a run searches in memory, and the durable study it writes finished trials to.

Optuna's storages write a trial field by field: an ask, each parameter, each attribute, each
constraint and the tell are separate storage operations, each a journal record with its own
fsync (or a database transaction). The driver instead asks and tells on an in-memory copy of
the study, as fast as plain Optuna in memory, and writes each finished trial to the durable
storage as ONE record (``BaseStorage.create_new_trial(study_id, template_trial=...)``), the
records of a batch with one commit (``run.storage.journal``: one fsync).

Rules:

* On opening, the memory copy receives every finished trial of the durable study, in order, so
  the sampler sees the whole history.
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
* A journal file has one driver (``run.storage.journal`` refuses a second writer):
  ``refresh()`` does nothing there, so a single run costs nothing more and stays deterministic.
* A database that stops answering mid-run (a server restart): each write and each refresh is
  retried with backoff for a bounded time (``run.storage.outage``). A trial's write is one
  transaction that a retry never repeats once it landed (``run.storage.rdb_write``: a token
  in the trial, looked for before writing again), so a trial is stored exactly once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import optuna
from optuna.storages import RDBStorage
from optuna.trial import FrozenTrial, TrialState

from policysearch.run.storage.outage import OutageRetry
from policysearch.run.storage.rdb_write import tagged, write_trial

T = TypeVar("T")
_FINISHED = (TrialState.COMPLETE, TrialState.FAIL)
_CONTAINERS = ("_params", "_distributions", "_user_attrs", "_system_attrs", "intermediate_values")


class _Template(FrozenTrial):
    """A finished trial to add to the memory copy, copied in microseconds.

    ``InMemoryStorage.create_new_trial`` deep-copies its template: about 0.2 ms for a trial
    with its metrics, 3 s of a 17,000-trial resume. A finished trial is never changed again
    (neither storage lets it be), so the copy gets containers of its own and shares what they
    hold (the metrics mapping, the distributions).
    """

    @classmethod
    def of(cls, trial: FrozenTrial) -> _Template:
        template = cls.__new__(cls)
        template.__dict__.update(trial.__dict__)
        return template

    def __deepcopy__(self, memo: dict) -> FrozenTrial:
        copy = FrozenTrial.__new__(FrozenTrial)
        copy.__dict__.update(self.__dict__)
        for name in _CONTAINERS:
            copy.__dict__[name] = dict(self.__dict__[name])
        if self._values is not None:
            copy._values = list(self._values)
        return copy


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
    """

    def __init__(
        self,
        durable: optuna.Study,
        sampler: optuna.samplers.BaseSampler,
        commit: Callable[[], None],
        outage: OutageRetry | None = None,
    ) -> None:
        self.durable = durable
        self.outage = outage
        self._commit = commit
        self._storage = durable._storage
        self._study_id = durable._study_id
        self.memory = optuna.create_study(
            directions=durable.directions, sampler=sampler, study_name=durable.study_name
        )
        # Optuna wraps a database in a cache (``_CachedStorage``); refresh asks the database.
        self._backend = getattr(self._storage, "_backend", self._storage)
        self.shared = isinstance(self._backend, RDBStorage)
        self.foreign = 0
        self.complete = 0
        self.last_added: list[FrozenTrial] = []  # the trials the last ``refresh`` took in
        self._own: set[int] = set()  # durable ids of the trials this driver wrote
        self._seen = -1  # every durable trial up to this id has been looked at
        self._unfinished: set[int] = set()  # durable trials still running when last looked at
        self._add(self._call(lambda: durable.get_trials(deepcopy=False)))
        self.last_added = []

    def _add(self, trials: list[FrozenTrial]) -> tuple[int, int]:
        """Add the finished trials of ``trials`` not seen yet: how many, and how many COMPLETE."""
        added = complete = 0
        self.last_added = []
        for trial in trials:
            self._seen = max(self._seen, trial._trial_id)
            if trial._trial_id in self._own:
                continue
            if trial.state not in _FINISHED:
                self._unfinished.add(trial._trial_id)
                continue
            self._unfinished.discard(trial._trial_id)
            self.memory.add_trial(_Template.of(trial))
            self.last_added.append(trial)
            added += 1
            complete += trial.state == TrialState.COMPLETE
        self.complete += complete
        return added, complete

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
        self.complete += frozen.state == TrialState.COMPLETE

    def _call(self, first: Callable[[], T], again: Callable[[], T] | None = None) -> T:
        """``first()``, through ``outage`` when there is one (``OutageRetry.call``)."""
        if self.outage is None:
            return first()
        return self.outage.call(first, again)

    def commit(self) -> None:
        """Make every persisted trial durable (one fsync for a journal file)."""
        self._commit()
