"""The study a run searches in memory, and the durable study it writes finished trials to.

Optuna's storages write a trial field by field: an ask, each parameter, each attribute, each
constraint and the tell are separate storage operations, each a journal record with its own
fsync (or a database transaction). The driver instead asks and tells on an in-memory copy of
the study, as fast as plain Optuna in memory, and writes each finished trial to the durable
storage as ONE record (``BaseStorage.create_new_trial(study_id, template_trial=...)``), the
records of a batch with one commit (``run.journal``: one fsync).

Rules:

* On opening, the memory copy receives every finished trial of the durable study, in order, so
  the sampler sees the whole history and the trial numbers agree on both sides.
* Trials are persisted in the order they were asked (the driver tells in that order), so a
  trial has the same number in memory and on disk.
* Only finished trials (COMPLETE or FAIL) reach the durable storage; a trial counts as
  finished once the commit that carries it returns. A killed run leaves nothing RUNNING
  behind; what it had not committed is simply not there, and the next run asks again.
"""

from __future__ import annotations

from collections.abc import Callable

import optuna
from optuna.trial import FrozenTrial, TrialState


class MirroredStudy:
    """An in-memory study to search, backed by a durable one (see the module docstring).

    Attributes:
        durable: the stored study (what ``front``, ``report`` and the dashboard read).
        memory: the in-memory study the driver asks and tells.
    """

    def __init__(
        self,
        durable: optuna.Study,
        sampler: optuna.samplers.BaseSampler,
        commit: Callable[[], None],
    ) -> None:
        self.durable = durable
        self._commit = commit
        self._study_id = durable._study_id
        self.memory = optuna.create_study(
            directions=durable.directions, sampler=sampler, study_name=durable.study_name
        )
        finished = durable.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.FAIL))
        self.memory.add_trials(finished)

    def persist(self, frozen: FrozenTrial) -> None:
        """Queue a finished trial of the memory copy for the durable storage (one record)."""
        self.durable._storage.create_new_trial(self._study_id, template_trial=frozen)

    def commit(self) -> None:
        """Make every persisted trial durable (one fsync for a journal file)."""
        self._commit()
