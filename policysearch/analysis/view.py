"""The study view: everything ``front``, ``report``, the plots and ``run``'s summary show of a
stored study, computed once from one read of its trials.

``study_view(study, info)`` reads the trials of an Optuna study once, ``scanned_view`` takes
them from a column-wise scan of a journal file (``run.storage.journal_scan``), and both compute from
the same columns (``TrialColumns``), in the all-minimise view of ``policysearch.analysis.pareto``:

* the numbers of the COMPLETE trials, their objective values and which are feasible (the job's
  constraints, through ``policysearch.run.records``);
* the front: the feasible trials no feasible trial dominates, trials with identical outcomes
  shown once (as the earliest such trial), ordered by first objective then number;
* its knee (``pareto.knee_index``), hypervolume and automatic reference point.

What only some readers need is computed on first use and then kept (``functools.
cached_property``): the COMPLETE trials themselves (the front's are read at once), today's
Linux on the study's problem and seed (one simulation; ``None`` when the problem has no
baseline), the hypervolume history (``pareto.hypervolume_history``: the front updated as the
trials arrive), the known true front, the searched knobs as columns (``analysis.knobs``), and
the knob importances (Optuna's PED-ANOVA over a sample of at most ``IMPORTANCE_SAMPLE`` trials,
fed the sample's trials so the storage is not read again), and, for a study run under an
uncertainty plan, each front point's robustness (``analysis.robustness``: the front
re-evaluated under the plan's draws) and its stored spreads (``run.records.spread``). None of
these builds a FrozenTrial per trial: a 100,000-trial study is reported from its columns.
Outputs draw and print what the view holds; they compute nothing themselves.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Container, Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import optuna
from optuna.study import StudyDirection
from optuna.trial import FrozenTrial, TrialState

from policysearch.analysis.knobs import KnobColumns, from_journal, from_trials
from policysearch.analysis.pareto import (
    box_share,
    hypervolume,
    hypervolume_history,
    knee_index,
    minimise_view,
    nondominated_mask,
    reference_point,
)
from policysearch.analysis.robustness import front_robustness
from policysearch.run import records
from policysearch.run.reference import AUTOMATIC, OVERRIDE
from policysearch.run.storage.journal_replay import gc_paused
from policysearch.run.storage.journal_scan import ScannedStudy
from policysearch.run.study_meta import StudyInfo

MIN_TARGET_TRIALS = 5
"""PED-ANOVA is steadier with at least this many trials in its top quantile."""
TRUE_FRONT_POINTS = 400
"""Points of a known true front (benchmark problems) the view holds for drawing."""
IMPORTANCE_SAMPLE = 5000
"""PED-ANOVA ranks the knobs on at most this many COMPLETE trials, drawn at random (seed
``IMPORTANCE_SEED``) when the study has more; the report states the sample. PED-ANOVA's cost
grows with the trials (3.6 s for 100,000) and its ranking from 5,000 is steady."""
IMPORTANCE_SEED = 0

Importances = list[tuple[str, dict[str, float] | str]]
"""Per objective: ``(metric, {knob: share})``, or ``(metric, why there is nothing to rank)``."""


@dataclass(frozen=True, eq=False)
class StudyView:
    """A stored study as its outputs show it (see the module doc).

    Attributes:
        info: the study's stored job facts.
        numbers: the numbers of the COMPLETE trials, in increasing order (the rows of
            ``values``); ``trials`` holds the trials themselves, read on first use.
        failed: how many trials FAILed.
        unfinished: how many trials are neither COMPLETE nor FAILed (running, waiting, pruned).
        values: objective values, ``len(trials) x objectives``, in the study's order.
        costs: ``values`` in the all-minimise view (maximised columns negated).
        feasible: per trial, whether it meets every constraint.
        on_front: per trial, whether it is one of ``front``.
        front: the distinct feasible non-dominated trials, by first objective then number.
        knee: the front's knee trial, or ``None`` without a front.
        hypervolume: the hypervolume of the front (0 without a front).
        reference: the reference point (``()`` without a front): the study's fixed point
            (``run.reference``), a ``--ref`` override, or the automatic point of the front.
        reference_origin: where the reference point comes from, in words.
    """

    info: StudyInfo
    numbers: np.ndarray
    failed: int
    unfinished: int
    values: np.ndarray
    costs: np.ndarray
    feasible: np.ndarray
    on_front: np.ndarray
    front: tuple[FrozenTrial, ...]
    knee: FrozenTrial | None
    hypervolume: float
    reference: tuple[float, ...]
    reference_origin: str = AUTOMATIC
    load: Callable[[Sequence[int]], list[FrozenTrial]] | None = None
    knob_table: Callable[[], KnobColumns] | None = None

    @property
    def complete(self) -> int:
        """How many trials are COMPLETE."""
        return len(self.numbers)

    def trial(self, number: int) -> FrozenTrial | None:
        """The COMPLETE trial ``number``, or ``None`` (no such trial, or not COMPLETE)."""
        rows = np.flatnonzero(self.numbers == number)
        if rows.size == 0 or self.load is None:
            return None
        return self.load([int(rows[0])])[0]

    @cached_property
    def trials(self) -> tuple[FrozenTrial, ...]:
        """The COMPLETE trials, by number (read when first asked: the front needs none)."""
        if self.load is None:
            return ()
        return tuple(self.load(range(len(self.numbers))))

    @cached_property
    def knobs(self) -> KnobColumns:
        """The knobs of the COMPLETE trials as columns, one row per trial (``analysis.knobs``)."""
        if self.knob_table is not None:
            return self.knob_table()
        return from_trials(self.trials)

    @cached_property
    def importance_rows(self) -> np.ndarray:
        """The rows PED-ANOVA ranks the knobs on: every row, or ``IMPORTANCE_SAMPLE`` of them
        drawn at random (seed ``IMPORTANCE_SEED``), in increasing order."""
        n = len(self.numbers)
        if n <= IMPORTANCE_SAMPLE:
            return np.arange(n)
        rng = np.random.default_rng(IMPORTANCE_SEED)
        return np.sort(rng.choice(n, size=IMPORTANCE_SAMPLE, replace=False))

    @property
    def importance_sampled(self) -> bool:
        """Whether the importances come from a sample rather than every COMPLETE trial."""
        return len(self.importance_rows) < len(self.numbers)

    @property
    def feasible_count(self) -> int:
        """How many COMPLETE trials are feasible."""
        return int(self.feasible.sum())

    @cached_property
    def hypervolume_share(self) -> float | None:
        """``hypervolume`` as a share of the reference box (``pareto.box_share``: from each
        objective's zero to the reference point), or ``None`` without a front."""
        if not self.front:
            return None
        return box_share(self.hypervolume, self.reference, self.costs[self.on_front])

    @cached_property
    def baseline_metrics(self) -> dict[str, float] | None:
        """Today's Linux on the study's problem and seed, or ``None`` (no baseline): as stored
        with the study, else simulated (a study stored before the metrics were)."""
        if self.info.baseline_metrics is not None:
            return dict(self.info.baseline_metrics)
        params = self.info.problem.baseline_params()
        if params is None:
            return None
        return dict(self.info.problem.evaluate(params))

    @cached_property
    def today(self) -> np.ndarray | None:
        """Today's Linux's objective values, in the study's order, or ``None``."""
        metrics = self.baseline_metrics
        if metrics is None:
            return None
        return np.array([metrics[o.metric] for o in self.info.objectives], dtype=float)

    @cached_property
    def history(self) -> tuple[np.ndarray, np.ndarray]:
        """``(k, hypervolume)``: the front of the first k trials against the view's reference
        point, so that it ends at ``hypervolume`` (``pareto.hypervolume_history``)."""
        if not self.front:
            return np.zeros(0, dtype=int), np.zeros(0)
        return hypervolume_history(self.costs, self.feasible, self.reference)

    @cached_property
    def true_front(self) -> np.ndarray | None:
        """The problem's known Pareto front (``TRUE_FRONT_POINTS`` points), or ``None``."""
        return self.info.problem.true_front(TRUE_FRONT_POINTS)

    @property
    def has_plan(self) -> bool:
        """Whether the study was run under an uncertainty plan (a job's ``uncertainty:``)."""
        return self.info.plan is not None

    @cached_property
    def robustness(self) -> dict[int, float] | None:
        """Front trial number -> its share of the plan's draws on the front (``analysis.
        robustness``); ``None`` for a study without an uncertainty plan."""
        return front_robustness(self.info, self.front)

    @cached_property
    def spreads(self) -> dict[int, dict[str, tuple[float, float, float]]]:
        """Front trial number -> each metric's stored ``(low, median, high)`` over the plan's
        draws (empty without a plan)."""
        return {t.number: s for t in self.front if (s := records.spread(t))}

    @cached_property
    def importances(self) -> Importances:
        """Per objective, each searched knob's share in reaching its best trials.

        PED-ANOVA (``optuna.importance.PedAnovaImportanceEvaluator``, no extra package) over
        the COMPLETE trials of ``importance_rows`` (every one, or a sample), feasible or not,
        the target negated for a maximised objective
        (PED-ANOVA ranks low values best), normalised to sum 1. When there is nothing to rank
        (too few trials, one distinct value, a single knob) the entry says why.
        """
        return _importances(self)


def study_view(
    study: optuna.Study, info: StudyInfo, reference: Sequence[float] | None = None
) -> StudyView:
    """The view of ``study``, from one read of its trials (``reference`` overrides the point)."""
    # Reading 100k trials allocates several hundred thousand small objects, none of them in
    # reference cycles: pausing the cyclic collector avoids passes that double the time.
    with gc_paused():
        every = study.get_trials(deepcopy=False)
    return build_view(every, info, reference)


def build_view(
    every: list[FrozenTrial], info: StudyInfo, reference: Sequence[float] | None = None
) -> StudyView:
    """The view of a study whose trials (in any state) are ``every``."""
    trials = sorted((t for t in every if t.state == TrialState.COMPLETE), key=lambda t: t.number)
    failed = sum(t.state == TrialState.FAIL for t in every)
    m = len(info.objectives)
    return _view(
        info,
        TrialColumns(
            numbers=np.array([t.number for t in trials], dtype=int),
            values=np.array([t.values for t in trials], dtype=float).reshape(len(trials), m),
            constraint_metrics=records.metric_table(trials, [c.metric for c in info.constraints]),
            failed=failed,
            unfinished=len(every) - len(trials) - failed,
            load=lambda rows: [trials[i] for i in rows],
            knobs=lambda: from_trials(trials),
        ),
        reference,
    )


def scanned_view(
    scanned: ScannedStudy, info: StudyInfo, reference: Sequence[float] | None = None
) -> StudyView:
    """The view of a study read by ``run.storage.journal_scan`` (its FrozenTrials built on demand).

    Raises:
        NotColumnar: a trial's stored metrics cannot be read column-wise.
    """
    with gc_paused():
        numbers = np.flatnonzero(scanned.states == TrialState.COMPLETE.value)
        failed = int(np.count_nonzero(scanned.states == TrialState.FAIL.value))
        values = [scanned.values[n] for n in numbers]
        columns = TrialColumns(
            numbers=numbers,
            values=np.array(values, dtype=float).reshape(len(numbers), len(info.objectives)),
            constraint_metrics=scanned.metric_table(numbers, [c.metric for c in info.constraints]),
            failed=failed,
            unfinished=len(scanned.states) - len(numbers) - failed,
            load=lambda rows: scanned.frozen([int(numbers[i]) for i in rows]),
            knobs=lambda: _scanned_knobs(scanned, numbers),
        )
    return _view(info, columns, reference)


@dataclass(frozen=True)
class TrialColumns:
    """What the view is computed from: the COMPLETE trials as arrays, by number.

    Attributes:
        numbers: trial numbers, increasing.
        values: objective values, ``len(numbers) x objectives``.
        constraint_metrics: the stored metric of each of the job's constraints, one column each.
        failed: FAIL trials.
        unfinished: trials neither COMPLETE nor FAIL.
        load: the FrozenTrials of some rows (positions in ``numbers``).
        knobs: the knob columns of every row (``analysis.knobs``).
    """

    numbers: np.ndarray
    values: np.ndarray
    constraint_metrics: np.ndarray
    failed: int
    unfinished: int
    load: Callable[[Sequence[int]], list[FrozenTrial]]
    knobs: Callable[[], KnobColumns] | None = None


def _scanned_knobs(scanned: ScannedStudy, numbers: np.ndarray) -> KnobColumns:
    """The knob columns from the journal's records; from FrozenTrials when the trials'
    distributions differ (``analysis.knobs``)."""
    columns = from_journal(*scanned.raw_params(numbers.tolist()))
    return columns if columns is not None else from_trials(scanned.frozen(numbers.tolist()))


def _view(info: StudyInfo, columns: TrialColumns, reference: Sequence[float] | None) -> StudyView:
    values = columns.values
    directions = [o.direction for o in info.objectives]
    costs = minimise_view(values, directions)
    feasible = records.feasible_rows(columns.constraint_metrics, info.constraints)
    front_rows = _front_rows(costs, feasible)
    front_rows = front_rows[np.lexsort((columns.numbers[front_rows], values[front_rows, 0]))]
    front = tuple(columns.load(front_rows.tolist()))
    on_front = np.zeros(len(values), dtype=bool)
    on_front[front_rows] = True
    knee = None
    volume, point, origin = 0.0, (), AUTOMATIC
    if reference is not None:
        point, origin = tuple(float(r) for r in reference), OVERRIDE
    elif info.reference is not None:
        point, origin = info.reference.point, info.reference.origin
    if front:
        front_costs = costs[front_rows]
        knee = front[knee_index(front_costs)]
        if origin == AUTOMATIC:
            # The reference of the distinct front is that of every non-dominated row:
            # duplicates change neither its nadir nor its range.
            point = tuple(float(r) for r in reference_point(front_costs))
        volume = hypervolume(front_costs, point)
    return StudyView(
        info=info,
        numbers=columns.numbers,
        failed=columns.failed,
        unfinished=columns.unfinished,
        values=values,
        costs=costs,
        feasible=feasible,
        on_front=on_front,
        front=front,
        knee=knee,
        hypervolume=volume,
        reference=point if front else (),
        reference_origin=origin,
        load=columns.load,
        knob_table=columns.knobs,
    )


def _front_rows(costs: np.ndarray, feasible: np.ndarray) -> np.ndarray:
    """Rows of the distinct front: feasible, non-dominated, the earliest of identical rows.

    ``costs`` is in trial order, so the first of identical rows is the earliest trial.
    """
    rows = np.flatnonzero(feasible)
    if rows.size == 0:
        return rows
    rows = rows[nondominated_mask(costs[rows])]
    _, first = np.unique(costs[rows], axis=0, return_index=True)
    return np.sort(rows[first])


def _importances(view: StudyView) -> Importances:
    rows = view.importance_rows
    trials = _ranked_trials(view, rows)
    knobs = view.knobs.searched()
    result: Importances = []
    trials_only = _TrialsOnly(trials, [o.direction for o in view.info.objectives])
    for i, objective in enumerate(view.info.objectives):
        metric = objective.metric
        if len(trials) < 2:
            result.append((metric, f"{len(trials)} finished trial(s): nothing to compare"))
            continue
        if not knobs:
            result.append((metric, "no knob was searched: nothing to rank"))
            continue
        if len(knobs) == 1:
            result.append(
                (metric, f"only one knob ({knobs[0]}) was searched: nothing to rank it against")
            )
            continue
        if len(np.unique(view.values[:, i])) < 2:
            result.append((metric, "every trial has the same value: no knob changes it"))
            continue
        sign = -1.0 if objective.direction == "maximize" else 1.0
        quantile = min(0.5, max(0.1, MIN_TARGET_TRIALS / len(trials)))
        evaluator = optuna.importance.PedAnovaImportanceEvaluator(target_quantile=quantile)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                raw = evaluator.evaluate(
                    trials_only,  # type: ignore[arg-type]
                    params=knobs,
                    target=lambda t, i=i, sign=sign: sign * t.values[i],
                )
        except (ValueError, RuntimeError) as exc:
            result.append((metric, f"Optuna could not rank the knobs: {exc}"))
            continue
        total = float(sum(raw.values()))
        if not total > 0:
            result.append((metric, "no knob separates the best trials from the rest"))
            continue
        result.append((metric, {k: float(v) / total for k, v in raw.items()}))
    return result


def _ranked_trials(view: StudyView, rows: np.ndarray) -> list[FrozenTrial]:
    """The COMPLETE trials of ``rows`` as PED-ANOVA reads them (state, parameters,
    distributions, values): from the knob and value columns when every trial shares one set
    of distributions (a journal's scan: no record read again), else the stored trials."""
    columns = view.knobs if view.knob_table is not None else None
    if columns is None or not columns.shared:
        return view.load(rows.tolist()) if view.load is not None else []
    out = []
    new = FrozenTrial.__new__
    numbers = view.numbers[rows].tolist()
    values = view.values[rows].tolist()
    for number, params, trial_values in zip(numbers, columns.params(rows), values, strict=True):
        trial = new(FrozenTrial)
        # FrozenTrial.__init__'s attributes; what the evaluator does not read is left empty,
        # and the id is the number (the evaluator tells trials apart by id)
        trial.__dict__.update(
            _number=number,
            state=TrialState.COMPLETE,
            _values=trial_values,
            _datetime_start=None,
            datetime_complete=None,
            _params=params,
            _user_attrs={},
            _system_attrs={},
            intermediate_values={},
            _distributions=columns.distributions,
            _trial_id=number,
        )
        out.append(trial)
    return out


class _TrialsOnly:
    """What Optuna's importance evaluators read of a study, answered from the view's trials.

    ``PedAnovaImportanceEvaluator.evaluate`` reads ``get_trials`` (twice), ``directions`` and
    ``_is_multi_objective()``; nothing else when a target is given. Answering from the view
    spares two storage reads per objective (and an in-memory copy would cost 0.1 ms a trial).
    ``tests/policysearch/test_view.py`` checks the shares against Optuna's own on the study.
    """

    def __init__(self, trials: Sequence[FrozenTrial], directions: Sequence[str]) -> None:
        self._trials = list(trials)
        self.directions = [
            StudyDirection.MAXIMIZE if d == "maximize" else StudyDirection.MINIMIZE
            for d in directions
        ]

    def get_trials(
        self, deepcopy: bool = False, states: Container[TrialState] | None = None
    ) -> list[FrozenTrial]:
        if states is None:
            return list(self._trials)
        return [t for t in self._trials if t.state in states]

    def _is_multi_objective(self) -> bool:
        return len(self.directions) > 1
