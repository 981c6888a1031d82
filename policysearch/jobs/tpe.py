"""TPE whose cost per ask does not grow with the study: incremental observations, a window.

Optuna's ``TPESampler`` rebuilds its observations from every trial on every ask: per trial it
reads the parameters (``to_internal_repr``), the constraints and the values in Python, then
ranks every trial and fits its Parzen estimators on all of them. At 1,000 trials that is about
20 ms per ask; it grows linearly.

``WindowedTPESampler`` is the same algorithm with two changes:

* **Incremental observations.** Each finished trial is read once, when the sampler first sees
  it finished, into arrays indexed by trial number (internal parameter values, objective values,
  infeasibility score, state). An ask reads only the trials that finished since the last ask;
  the split into "below" and "above" and the Parzen estimators are fitted from array slices.
* **A window** (``window`` trials, ``DEFAULT_WINDOW``): the split and the estimators see the
  most recent ``window`` finished (COMPLETE or PRUNED) trials, the ``ELITE`` best trials of the
  whole study (an archive kept as trials arrive: the best ``ELITE`` of the archive and the new
  trials, by TPE's own ranking: feasible by non-domination rank and hypervolume tie-break, then
  the least infeasible), and the running ones (constant liar), so the NumPy work per ask is
  bounded too. ``window=None`` sees every trial.

With every trial in the window (a study smaller than the window, or ``window=None``) it makes
exactly the proposals of ``optuna.samplers.TPESampler`` with the same seed and options
(``tests/policysearch/test_tpe.py`` checks it trial for trial). Its effect on the fronts of the
benchmark problems is measured by ``bench/bench_tpe_window.py`` and reported in the README.

A window is a study in feasible TPE (Watanabe 2023, "Tree-structured Parzen estimator:
understanding its algorithm components"): the "below" group is a tenth of the trials fitted
with two or more objectives (Optuna 5's ``default_gamma_multiobjective``: 55 of a full window)
and at most 25 with one, and the above group's old trials already have falling weights
(``default_weights``); recent trials concentrate where the search now is.

**Cost per ask past the window** (issue 20: at most 5 ms per trial at 10,000 trials). What is
left once the observations are arrays is Optuna's arithmetic on about 550 trials, done here with
the same floating-point operations for less work, so the proposals do not change (the tests
compare them with Optuna's, and each part with Optuna's function):

* the "below" split: non-domination ranks after a ``np.lexsort`` (``jobs/nondomination.py``)
  and the hypervolume tie-break updating only the rectangles next to each pick
  (``jobs/hssp.py``);
* the acquisition function: each kernel's normaliser (its truncated-Gaussian mass, the
  ``erf`` work) is kept by trial number between asks and computed only for kernels whose
  bandwidth changed (``jobs/parzen_pdf.py``);
* the elite: a new trial that cannot enter it (dominated, and ranked below every elite trial)
  leaves it as it is, without ranking the 51 candidates.

Studies with PRUNED trials (the driver never prunes) are sampled by Optuna's own code path.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from optuna.distributions import BaseDistribution, CategoricalDistribution
from optuna.samplers import TPESampler
from optuna.samplers._tpe.sampler import (
    _get_reference_point,
    default_gamma,
    default_gamma_multiobjective,
)
from optuna.study import Study, StudyDirection
from optuna.trial import FrozenTrial, TrialState

from policysearch.jobs.hssp import solve_hssp
from policysearch.jobs.nondomination import nondomination_rank
from policysearch.jobs.parzen_pdf import KernelMasses
from policysearch.jobs.search_space import IntersectionSearchSpace

DEFAULT_WINDOW = 500
"""Finished trials the default TPE fits its estimators to (the most recent ones)."""
ELITE = 50
"""With a window, the best trials of the whole study it always holds besides the recent ones:
they hold most of the "below" group of every trial (a tenth of a full window with two or more
objectives, 55 trials; at most 25 with one)."""

_FINISHED = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)
_USED = (TrialState.COMPLETE.value, TrialState.PRUNED.value)


class WindowedTPESampler(TPESampler):
    """Optuna's TPE over incremental observations and a window of recent trials (module doc).

    Args:
        window: how many of the most recent finished trials the estimators see (``None``: all).
        **kwargs: ``optuna.samplers.TPESampler``'s arguments.
    """

    def __init__(self, *, window: int | None = DEFAULT_WINDOW, **kwargs: Any) -> None:
        if window is not None and window < 1:
            raise ValueError(f"window must be a positive number of trials, got {window}")
        super().__init__(**kwargs)
        include_pruned = self._search_space._include_pruned
        self._search_space = IntersectionSearchSpace(include_pruned)  # Optuna's, identity first
        self.window = window
        self._history = _History()
        self._masses_below = KernelMasses()
        self._masses_above = KernelMasses()
        self.last_seen = 0
        """How many finished trials the last fit saw (tests read it)."""

    def _sample_relative(
        self, study: Study, trial: FrozenTrial, search_space: dict[str, BaseDistribution]
    ) -> dict[str, Any]:
        if search_space == {}:
            return {}
        history = self._history
        history.sync(study, search_space)
        if history.used < self._n_startup_trials:
            return {}
        if history.pruned:  # not modelled here: Optuna's own path (every trial)
            return TPESampler._sample(self, study, trial, search_space)
        return self._sample_window(study, trial, search_space)

    def _sample_window(
        self, study: Study, trial: FrozenTrial, search_space: dict[str, BaseDistribution]
    ) -> dict[str, Any]:
        history = self._history
        rows = history.window(self.window)
        if self.window is not None:
            rows = np.union1d(rows, history.update_elite(study.directions))
        running = history.running(trial.number) if self._constant_liar else []
        self.last_seen = len(rows)
        if self._gamma is None:
            multi = len(study.directions) > 1
            self._gamma = default_gamma_multiobjective if multi else default_gamma
        n_below = self._gamma(len(rows))
        below = _split(history, rows, n_below, study.directions)
        above = np.setdiff1d(rows, below, assume_unique=True)
        # running trials (constant liar) join the above group, in number order like the rest
        extra = [
            (t.number, self._internal(self._get_params(t, study), search_space)) for t in running
        ]
        numbers_below, observed_below = history.observations(below, [], search_space)
        numbers_above, observed_above = history.observations(above, extra, search_space)
        mpe_below = self._estimator(observed_below, search_space, study, True)
        mpe_above = self._estimator(observed_above, search_space, study, False)
        samples_below = mpe_below.sample(self._rng.rng, self._n_ei_candidates)
        # TPESampler._compute_acquisition_func, each kernel's normaliser kept between asks
        points = np.array([samples_below[name] for name in search_space]).T
        acq_func_vals = self._masses_below.log_pdf(
            mpe_below._mixture_distribution, points, numbers_below
        ) - self._masses_above.log_pdf(mpe_above._mixture_distribution, points, numbers_above)
        ret = TPESampler._compare(samples_below, acq_func_vals)
        for param_name, dist in search_space.items():
            ret[param_name] = dist.to_external_repr(ret[param_name])
        return ret

    @staticmethod
    def _internal(
        params: dict[str, Any], search_space: dict[str, BaseDistribution]
    ) -> list[float] | None:
        if not search_space.keys() <= params.keys():
            return None
        return [d.to_internal_repr(params[k]) for k, d in search_space.items()]

    def _estimator(
        self,
        observations: dict[str, np.ndarray],
        search_space: dict[str, BaseDistribution],
        study: Study,
        handle_below: bool,
    ) -> Any:
        # as ``TPESampler._build_parzen_estimator``, from arrays instead of trials
        if handle_below and study._is_multi_objective():
            n_below = len(next(iter(observations.values()))) if observations else 0
            return self._parzen_estimator_cls(
                observations, search_space, self._parzen_estimator_parameters, np.ones(n_below)
            )
        return self._parzen_estimator_cls(
            observations, search_space, self._parzen_estimator_parameters
        )


def _split(
    history: _History, rows: np.ndarray, n_below: int, directions: Sequence[StudyDirection]
) -> np.ndarray:
    """The trial numbers of the "below" group among ``rows`` (``optuna``'s ``_split_trials``
    for COMPLETE trials, feasible first, then the least infeasible), in number order."""
    score = history.score[rows]
    feasible = rows[score <= 0]
    infeasible = rows[score > 0]
    below = _split_complete(
        history.values[feasible], feasible, min(n_below, len(feasible)), directions
    )
    n_left = max(0, n_below - len(below))
    order = np.argsort(history.score[infeasible], kind="stable")
    below = np.concatenate([below, infeasible[order[:n_left]]]).astype(int)
    return np.sort(below)


def _split_complete(
    values: np.ndarray, numbers: np.ndarray, n_below: int, directions: Sequence[StudyDirection]
) -> np.ndarray:
    """The best ``n_below`` of feasible COMPLETE trials (optuna's ``_split_complete_trials``)."""
    if n_below <= 0:
        return numbers[:0]
    if len(directions) <= 1:
        sign = -1.0 if directions[0] == StudyDirection.MAXIMIZE else 1.0
        # Python's sorted(reverse=True) is stable too: equal values keep their number order
        order = np.argsort(sign * values[:, 0], kind="stable")
        return numbers[order[:n_below]]
    if n_below == len(numbers):
        return numbers
    lvals = values * [-1.0 if d == StudyDirection.MAXIMIZE else 1.0 for d in directions]
    ranks = nondomination_rank(lvals, n_below)
    levels, counts = np.unique(ranks, return_counts=True)
    last = int(np.max(levels[np.cumsum(counts) <= n_below], initial=-1))
    indices = np.arange(len(numbers))
    chosen = indices[ranks <= last]
    if chosen.size < n_below:  # tie-break by hypervolume subset selection, as Optuna does
        tie = ranks == last + 1
        tied = lvals[tie]
        picked = solve_hssp(tied, indices[tie], n_below - chosen.size, _get_reference_point(tied))
        chosen = np.append(chosen, picked)
    return numbers[np.sort(chosen.astype(int))]


class _History:
    """What the sampler knows of the study's trials, as arrays indexed by trial number.

    ``sync`` reads the trials that finished since the last call (each finished trial once);
    unfinished ones are kept by number and looked at again on the next call.
    """

    def __init__(self) -> None:
        self.size = 0  # trial numbers below this have been looked at
        self.state = np.zeros(0, dtype=np.int8)
        self.known = np.zeros(0, dtype=bool)  # finished and recorded
        self.values = np.zeros((0, 0))
        self.score = np.zeros(0)
        self.reprs = np.zeros((0, 0))
        self.has_params = np.zeros(0, dtype=bool)
        self.used = 0  # COMPLETE or PRUNED trials
        self._used_numbers = np.zeros(64, dtype=int)  # their numbers, the first ``used``
        self._in_order = True
        self.pruned = 0
        self._space: tuple[tuple[str, BaseDistribution], ...] = ()
        self._pending: set[int] = set()
        self._trials: list[FrozenTrial] = []
        self._fresh: list[int] = []  # COMPLETE or PRUNED trials the elite has not seen
        self.elite = np.zeros(0, dtype=int)
        self._elite_ranks: np.ndarray | None = None  # the elite's own non-domination ranks
        self.kept = 0
        """Fresh trials found unable to enter the elite without a split (tests read it)."""

    def sync(self, study: Study, search_space: dict[str, BaseDistribution]) -> None:
        """Record the trials finished since the last call; re-read everything when the search
        space changed (rare: the intersection search space grows in the first trials)."""
        trials = study._storage.get_all_trials(study._study_id, deepcopy=False)
        self._trials = trials
        space = tuple(search_space.items())
        if space != self._space:
            self.__init__()  # type: ignore[misc]
            self._trials = trials
            self._space = space
        self._grow(len(trials), len(study.directions), len(space))
        fresh = [n for n in self._pending if trials[n].state in _FINISHED]
        for n in range(self.size, len(trials)):
            if trials[n].state in _FINISHED:
                fresh.append(n)
            else:
                self._pending.add(n)
        self.size = len(trials)
        for n in fresh:
            self._pending.discard(n)
            self._record(trials[n], search_space)

    def _grow(self, n: int, m: int, d: int) -> None:
        if n <= len(self.state) and self.values.shape[1:] == (m,):
            return
        capacity = max(n, 2 * len(self.state), 64)

        def grown(array: np.ndarray, shape: tuple[int, ...], fill: Any) -> np.ndarray:
            out = np.full(shape, fill, dtype=array.dtype)
            out[: len(array)] = array
            return out

        self.state = grown(self.state, (capacity,), -1)
        self.known = grown(self.known, (capacity,), False)
        self.values = grown(self.values.reshape(-1, m), (capacity, m), np.nan)
        self.score = grown(self.score, (capacity,), 0.0)
        self.reprs = grown(self.reprs.reshape(-1, d), (capacity, d), np.nan)
        self.has_params = grown(self.has_params, (capacity,), False)

    def _record(self, trial: FrozenTrial, search_space: dict[str, BaseDistribution]) -> None:
        n = trial.number
        self.state[n] = trial.state.value
        self.known[n] = True
        if trial.state.value not in _USED:
            return
        if self.used == len(self._used_numbers):
            self._used_numbers = np.concatenate([self._used_numbers, self._used_numbers])
        if self.used and n < self._used_numbers[self.used - 1]:
            self._in_order = False
        self._used_numbers[self.used] = n
        self.used += 1
        self._fresh.append(n)
        self.pruned += trial.state == TrialState.PRUNED
        if trial.values is not None:
            self.values[n] = trial.values
        self.score[n] = sum(v for v in trial.constraints.values() if v > 0)
        params = trial.params
        if search_space.keys() <= params.keys():
            self.has_params[n] = True
            self.reprs[n] = [d.to_internal_repr(params[k]) for k, d in search_space.items()]

    def update_elite(self, directions: Sequence[StudyDirection]) -> np.ndarray:
        """The ``ELITE`` best trials so far: the best of the last elite and the new trials."""
        if self._fresh:
            fresh, self._fresh = self._fresh, []
            full = len(self.elite) == ELITE
            if len(fresh) == 1 and full and self._stays_out(fresh[0], directions):
                self.kept += 1
                return self.elite
            candidates = np.union1d(self.elite, fresh)
            if len(candidates) > ELITE:
                candidates = _split(self, candidates, ELITE, directions)
            self.elite = candidates
            self._elite_ranks = None
        return self.elite

    def _stays_out(self, number: int, directions: Sequence[StudyDirection]) -> bool:
        """Whether ``_split`` of the full elite and trial ``number`` is the elite itself, decided
        without it: every elite trial is feasible and ``number`` is not; or, with two or more
        objectives, ``number`` is feasible, dominated by an elite trial, dominates none, and its
        non-domination rank (one more than its worst-ranked dominator's) is worse than every
        elite trial's. The elite then fills every rank up to its worst with exactly ``ELITE``
        trials (``number`` changes no elite trial's rank): nothing is left to break a tie."""
        if (self.score[self.elite] > 0).any():
            return False
        if self.score[number] > 0:
            return True
        if len(directions) < 2:
            return False
        signs = [-1.0 if d == StudyDirection.MAXIMIZE else 1.0 for d in directions]
        elite = self.values[self.elite] * signs
        new = self.values[number] * signs
        dominators = np.all(elite <= new, axis=1) & np.any(elite < new, axis=1)
        if not dominators.any():
            return False
        if (np.all(new <= elite, axis=1) & np.any(new < elite, axis=1)).any():
            return False
        if self._elite_ranks is None:
            self._elite_ranks = nondomination_rank(elite)
        ranks = self._elite_ranks
        return bool(ranks[dominators].max() + 1 > ranks.max())

    def window(self, size: int | None) -> np.ndarray:
        """The numbers of the last ``size`` COMPLETE or PRUNED trials (all when ``None``), from
        the list of them kept as they are recorded (no scan of the study)."""
        numbers = self._used_numbers[: self.used]
        if not self._in_order:  # trials recorded out of number order (another driver's)
            numbers.sort()
            self._in_order = True
        return (numbers if size is None else numbers[-size:]).copy()

    def running(self, current: int) -> list[FrozenTrial]:
        """The RUNNING trials other than ``current``, by number."""
        return [
            self._trials[n]
            for n in sorted(self._pending)
            if n != current and self._trials[n].state == TrialState.RUNNING
        ]

    def observations(
        self,
        rows: np.ndarray,
        extra: list[tuple[int, list[float] | None]],
        search_space: dict[str, BaseDistribution],
    ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """The trial numbers and internal parameter values of ``rows`` and of ``extra`` (number,
        values), by number, keeping the trials that have every parameter
        (``TPESampler._get_internal_repr``)."""
        numbers = rows[self.has_params[rows]]
        table = self.reprs[numbers]
        extra = [(n, r) for n, r in extra if r is not None]
        if extra:
            numbers = np.concatenate([numbers, [n for n, _ in extra]]).astype(int)
            table = np.vstack([table, np.array([r for _, r in extra], dtype=float)])
            order = np.argsort(numbers, kind="stable")
            numbers, table = numbers[order], table[order]
        return numbers, {
            name: _as_optuna(table[:, i], dist)
            for i, (name, dist) in enumerate(search_space.items())
        }


def _as_optuna(column: np.ndarray, dist: BaseDistribution) -> np.ndarray:
    """The column as ``np.asarray`` of Optuna's internal values makes it (categorical indices
    are ints there)."""
    if isinstance(dist, CategoricalDistribution):
        return column.astype(int)
    return column
