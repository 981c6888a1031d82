"""NSGA-II with parent populations kept in the process and rebuilt without recursion.

Optuna's ``NSGAIISampler`` (``BaseGASampler.get_parent_population``) caches each generation's
parents in the study's system attributes and, on a miss, selects them from the previous
generation and ITS parents, asked recursively. The driver asks on an in-memory copy of the
study that starts without those attributes, so the first ask of a resumed study recursed once
per generation: a study of about 570 generations or more (17,058 trials of the quick-start job)
ended in ``RecursionError``, smaller ones spent seconds there, and every later ask scanned all
trials to read its parents back from the attribute.

``NSGA2Sampler`` is Optuna's sampler with that one method replaced by an equivalent that

* walks down from the asked generation to the nearest cached one (its own cache, then the
  storage's attribute), then selects the missing generations bottom-up, in a loop: the
  populations of past generations are grouped in one pass over the trials, not one pass per
  generation;
* returns exactly what Optuna's returns, in the same order: a freshly selected parent
  population in selection order (each level of Optuna's recursion feeds the next one its
  fresh result), a cached one in study order. So proposals are bit for bit those of
  ``NSGAIISampler``, in a run and on a resume (a test compares both, and the parents of every
  generation);
* keeps each generation's parents as trials in memory: a cached read costs a copy of the
  population, not a scan of the study.

It still writes each generation's parent trial ids to the study's system attributes, as
Optuna does, and uses Optuna's keys (``NSGAIISampler:generation`` on each trial), so a study
reads and resumes alike with either sampler. ``run.mirror`` writes those attributes through to
the stored study, so a resume finds the parents of its generation there and selects only the
generations after it; on a study stored before (without them) the first resume selects every
generation, once. The intersection search space is ``jobs.search_space``'s (identity first).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from optuna.samplers import NSGAIISampler
from optuna.trial import FrozenTrial, TrialState

from policysearch.jobs.search_space import IntersectionSearchSpace

if TYPE_CHECKING:
    from optuna.study import Study


class NSGA2Sampler(NSGAIISampler):
    """``optuna.samplers.NSGAIISampler`` whose parent populations never recurse (see module)."""

    # ``BaseGASampler.__init_subclass__`` names the keys after the class; keep Optuna's.
    @classmethod
    def _get_generation_key(cls) -> str:
        return NSGAIISampler._get_generation_key()

    @classmethod
    def _get_parent_cache_key_prefix(cls) -> str:
        return NSGAIISampler._get_parent_cache_key_prefix()

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._search_space = IntersectionSearchSpace()  # Optuna's, identity first
        self._parents: dict[int, list[FrozenTrial]] = {}  # generation -> parents, study order
        self._parents_of: tuple[int, int] | None = None  # (storage, study id) they belong to

    def get_parent_population(self, study: Study, generation: int) -> list[FrozenTrial]:
        """The parents of ``generation``: ``BaseGASampler.get_parent_population``'s result."""
        if generation == 0:
            return []
        owner = (id(study._storage), study._study_id)
        if self._parents_of != owner:
            self._parents.clear()
            self._parents_of = owner
        cached = self._parents.get(generation)
        if cached is not None:
            return list(cached)
        return self._select_missing(study, generation)

    def _select_missing(self, study: Study, generation: int) -> list[FrozenTrial]:
        """Select the parents of ``generation`` and of every uncached generation below it."""
        stored = study._storage.get_study_system_attrs(study._study_id)
        prefix = self._get_parent_cache_key_prefix()
        missing: list[int] = []
        below = generation
        while below > 0 and below not in self._parents:
            ids = stored.get(prefix + str(below))
            if ids is not None:
                self._parents[below] = _trials_with_ids(study, ids)
                break
            missing.append(below)
            below -= 1
        parents = list(self._parents.get(below, [])) if below > 0 else []
        missing.reverse()
        self._sync_generation_cache(study)
        latest = self._cached_generation
        past = self._past_populations(study, {level - 1 for level in missing} - {latest})
        for level in missing:
            if level - 1 == latest:  # Optuna's incremental cache of the latest generation
                population = self.get_population(study, latest)
            else:
                population = past[level - 1]
            # NSGAIISampler.select_parent, fed the level below's fresh result as Optuna's
            # recursion feeds it
            parents = self._elite_population_selection_strategy(study, population + parents)
            study._storage.set_study_system_attr(
                study._study_id, prefix + str(level), [t._trial_id for t in parents]
            )
            self._parents[level] = sorted(parents, key=lambda t: t.number)
        return parents

    def _past_populations(self, study: Study, wanted: set[int]) -> dict[int, list[FrozenTrial]]:
        """The COMPLETE trials of each generation in ``wanted``, in study order, in one pass.

        ``get_population`` scans the whole study for each past generation it is asked.
        """
        if not wanted:
            return {}
        key = self._get_generation_key()
        grouped: dict[int, list[FrozenTrial]] = {g: [] for g in wanted}
        for trial in study._get_trials(deepcopy=False, use_cache=True):
            if trial.state == TrialState.COMPLETE:
                members = grouped.get(trial.system_attrs.get(key))
                if members is not None:
                    members.append(trial)
        return grouped


def _trials_with_ids(study: Study, ids: list[int]) -> list[FrozenTrial]:
    """The trials whose ids are ``ids``, in study order (Optuna's read of its cache)."""
    wanted = set(ids)
    return [t for t in study._get_trials(deepcopy=False) if t._trial_id in wanted]
