"""The storage of the driver's in-memory study: Optuna's, with a bulk load and a log of writes.

``InMemoryStorage.create_new_trial(template_trial=...)`` deep-copies its template and
``Study.add_trial`` validates it first: about 30 µs per trial, 3 s of CPU for the 100,000
finished trials a resume loads. ``MemoryStorage.add_finished`` appends them as Optuna's
``create_new_trial`` does (numbers and ids in order, the best-trial cache updated), without
the deep copy and the validation: each trial is a new ``FrozenTrial`` object (its own number
and id) sharing its parameter, distribution and attribute mappings with the trial it was read
from, or that trial itself when its number and id are already the ones it gets here (a
journal holding one study; then, with several objectives, the list is appended in bulk).
That is safe because a finished trial is never changed in place:
Optuna's storages refuse to update a finished trial, and they replace, never mutate, a trial
or its mappings.

``get_all_trials(deepcopy=False)`` of every state returns the study's own list of trials, not
a copy of it (Optuna copies it, 100,000 pointers, several times per ask: the part of an ask's
cost that grew with the study). The list is only ever appended to, and a trial in it replaced
by an updated copy (Optuna's rule for its in-memory storage), so a caller that reads it sees
the trials as they are now; nothing in a run changes the list it gets (the driver, Optuna's
study and the samplers only read it).

``get_all_trials(states=(WAITING,))``, which ``Study.ask`` calls on every ask to find an
enqueued trial, scanned every trial's state (3 ms at 100,000 trials); until a trial is created
or set WAITING (``enqueue_trial``: the driver never does), the answer is known to be empty.

``written`` lists the study system attributes set since the caller last emptied it, in order
(``run.mirror`` writes a generational sampler's parent populations through to the durable
study from it).
"""

from __future__ import annotations

from collections.abc import Container, Iterable, Sequence
from itertools import repeat
from typing import Any

from optuna.storages import InMemoryStorage
from optuna.trial import FrozenTrial, TrialState

_WAITING = (TrialState.WAITING,)


class MemoryStorage(InMemoryStorage):
    """``InMemoryStorage`` with ``add_finished`` and ``written`` (see the module docstring)."""

    def __init__(self) -> None:
        super().__init__()
        self.written: list[tuple[str, Any]] = []
        self._waiting = False  # a WAITING trial may exist (one was created or set so)

    def create_new_trial(self, study_id: int, template_trial: FrozenTrial | None = None) -> int:
        if template_trial is not None and template_trial.state == TrialState.WAITING:
            self._waiting = True
        return super().create_new_trial(study_id, template_trial)

    def set_trial_state_values(
        self, trial_id: int, state: TrialState, values: Sequence[float] | None = None
    ) -> bool:
        if state == TrialState.WAITING:
            self._waiting = True
        return super().set_trial_state_values(trial_id, state, values)

    def set_study_system_attr(self, study_id: int, key: str, value: Any) -> None:
        super().set_study_system_attr(study_id, key, value)
        self.written.append((key, value))

    def get_all_trials(
        self,
        study_id: int,
        deepcopy: bool = True,
        states: Container[TrialState] | None = None,
    ) -> list[FrozenTrial]:
        if not self._waiting and states is not None and tuple(states) == _WAITING:
            with self._lock:  # Study.ask's look for an enqueued trial, on every ask
                self._check_study_id(study_id)
            return []
        if deepcopy or states is not None:
            return super().get_all_trials(study_id, deepcopy, states)
        with self._lock:
            self._check_study_id(study_id)
            return self._studies[study_id].trials

    def load_study_system_attrs(self, study_id: int, attrs: dict[str, Any]) -> None:
        """Set study system attributes read from elsewhere (not logged in ``written``)."""
        with self._lock:
            self._check_study_id(study_id)
            info = self._studies[study_id]
            info.system_attrs = {**info.system_attrs, **attrs}

    def add_finished(self, study_id: int, trials: Iterable[FrozenTrial]) -> list[int]:
        """Append finished trials to the study, in order; their ids in this storage."""
        ids = []
        with self._lock:
            self._check_study_id(study_id)
            info = self._studies[study_id]
            if isinstance(trials, list) and self._numbered_as_here(info, trials):
                return self._append_as_they_are(study_id, info, trials)
            for trial in trials:
                self._max_trial_id += 1
                trial_id, number = self._max_trial_id, len(info.trials)
                if trial._trial_id == trial_id and trial.number == number:
                    copy = trial  # already what the copy would be (one study per journal)
                else:
                    copy = FrozenTrial.__new__(FrozenTrial)
                    copy.__dict__.update(trial.__dict__)
                    copy._trial_id, copy.number = trial_id, number
                self._trial_id_to_study_id_and_number[trial_id] = (study_id, copy.number)
                info.trials.append(copy)
                # Optuna's best-trial cache; with several objectives it keeps the first
                # COMPLETE trial, so later ones change nothing
                if copy.state == TrialState.COMPLETE and (
                    info.best_trial_id is None or len(info.directions) == 1
                ):
                    self._update_cache(trial_id, study_id)
                ids.append(trial_id)
        return ids

    def _numbered_as_here(self, info: Any, trials: list[FrozenTrial]) -> bool:
        """Whether ``trials`` already carry the ids and numbers they get here, with several
        objectives (then the best-trial cache only needs the first COMPLETE trial)."""
        first_id, first_number = self._max_trial_id + 1, len(info.trials)
        return len(info.directions) > 1 and all(
            t._trial_id == first_id + i and t.number == first_number + i
            for i, t in enumerate(trials)
        )

    def _append_as_they_are(self, study_id: int, info: Any, trials: list[FrozenTrial]) -> list[int]:
        """``add_finished``'s loop in bulk, for trials ``_numbered_as_here``."""
        first_id, first_number = self._max_trial_id + 1, len(info.trials)
        ids = list(range(first_id, first_id + len(trials)))
        numbers = range(first_number, first_number + len(trials))
        self._trial_id_to_study_id_and_number.update(
            zip(ids, zip(repeat(study_id), numbers), strict=False)
        )
        info.trials.extend(trials)
        self._max_trial_id += len(trials)
        if info.best_trial_id is None:
            first = next((t for t in trials if t.state == TrialState.COMPLETE), None)
            if first is not None:
                self._update_cache(first._trial_id, study_id)
        return ids
