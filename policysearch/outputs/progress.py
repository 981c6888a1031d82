"""A run's progress as people follow it: a bar on a terminal, plain lines in a log.

What it says: finished trials of the study against the target (other drivers' included),
feasible ones, failed ones, the feasible front's size, its hypervolume as a share of the
reference box (``analysis.live_front``) and where the workers run (``BaseExecutor.where``).

* On a terminal (stderr is a TTY): one tqdm bar, its text refreshed at most every
  ``REFRESH_S`` seconds (the hypervolume is computed only then).
* Otherwise (a log, ``policysearch submit``, a pipe): one line every ``LINE_EVERY_S`` seconds
  and one at the end, so ``policysearch logs JOB --follow`` shows the run moving:

  ``progress: 120 of 300 finished (98 feasible, 2 failed); front 14; hypervolume 63.2% of the
  reference box; workers: local Ray``

The front is kept incrementally (a trial is compared with the front only), so following a run
costs the driver almost nothing per trial.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from typing import Any, TextIO

import numpy as np
import optuna
from optuna.trial import FrozenTrial, TrialState

from policysearch.analysis.live_front import LiveFront
from policysearch.quantities import share
from policysearch.run.progress import RunProgress
from policysearch.run.study_meta import read

REFRESH_S = 0.5
"""Least time between two redraws of the bar's text."""
LINE_EVERY_S = 5.0
"""Least time between two progress lines in a log."""


class ProgressDisplay(RunProgress):
    """Draws a run's progress on ``stream`` (module doc).

    Args:
        stream: where to draw (stderr by default).
        bar: a tqdm bar (``True``), plain lines (``False``), or by whether ``stream`` is a
            terminal (``None``).
    """

    def __init__(self, stream: TextIO | None = None, *, bar: bool | None = None) -> None:
        self.stream = stream or sys.stderr
        self.bar = self.stream.isatty() if bar is None else bar
        self._tqdm: Any = None
        self._front: LiveFront | None = None
        self._signs = np.ones(0)
        self._executor: Any = None
        self._where = ""
        self.target = 0
        self.complete = 0
        self.failed = 0
        self._note = ""
        self._drawn = 0.0

    @property
    def messages(self) -> TextIO | None:
        """The status lines go where the progress is drawn."""
        return self.stream

    def started(
        self, study: optuna.Study, trials: Sequence[FrozenTrial], target: int, executor: Any
    ) -> None:
        info = read(study, study.study_name)
        self._signs = np.array(
            [-1.0 if o.direction == "maximize" else 1.0 for o in info.objectives]
        )
        reference = info.reference.point if info.reference is not None else None
        self._front = LiveFront(len(info.objectives), reference)
        self._executor = executor
        self._where = executor.where
        self.target = target
        complete = [t for t in trials if t.state == TrialState.COMPLETE]
        self.complete = len(complete)
        self.failed = sum(t.state == TrialState.FAIL for t in trials)
        if complete:
            costs = np.array([t.values for t in complete], dtype=float) * self._signs
            self._front.extend(costs, _feasible_rows(complete))
        if self.bar:
            from tqdm import tqdm

            self._tqdm = tqdm(
                total=target,
                initial=min(self.complete, target),
                desc="trials",
                unit="trial",
                file=self.stream,
                mininterval=REFRESH_S,
                dynamic_ncols=True,
            )
            self._tqdm.set_postfix_str(self._summary(), refresh=True)
        self._drawn = time.monotonic()

    def finished(self, trials: Sequence[FrozenTrial]) -> None:
        if self._front is None:
            return
        complete = 0
        for trial in trials:
            if trial.state == TrialState.COMPLETE:
                complete += 1
                self._front.add(np.asarray(trial.values) * self._signs, _feasible(trial))
            elif trial.state == TrialState.FAIL:
                self.failed += 1
        self.complete += complete
        now = time.monotonic()
        if self._tqdm is not None:
            self._tqdm.update(max(0, min(complete, self.target - self._tqdm.n)))
            if now - self._drawn >= REFRESH_S:
                self._tqdm.set_postfix_str(self._summary(), refresh=False)
                self._drawn = now
        elif now - self._drawn >= LINE_EVERY_S:
            self._line()
            self._drawn = now

    def notice(self, line: str) -> None:
        if self._tqdm is None:
            print(f"policysearch: {line}", file=self.stream, flush=True)
        else:
            self._tqdm.write(f"policysearch: {line}", file=self.stream)  # above the bar

    def stopped(self, reason: str) -> None:
        self._note = f"; stopped asking for trials: {reason}"

    def close(self) -> None:
        if self._front is None:
            return
        self._executor = None  # closed by now: say where the workers were when last asked
        if self._tqdm is not None:
            self._tqdm.set_postfix_str(self._summary(), refresh=True)
            self._tqdm.close()
            self._tqdm = None
        else:
            self._line()
        self._front = None

    def _line(self) -> None:
        print(
            f"progress: {self.complete:,} of {self.target:,} finished "
            f"({self._front.feasible:,} feasible, {self.failed:,} failed); {self._summary(False)}"
            f"{self._note}",
            file=self.stream,
            flush=True,
        )

    def _summary(self, counts: bool = True) -> str:
        """Front size, hypervolume share and where the workers run (and the feasible count)."""
        front = self._front
        assert front is not None  # only called between started and close
        parts = [f"{front.feasible:,} feasible"] if counts else []
        parts.append(f"front {len(front)}")
        value = front.share()
        parts.append(
            "hypervolume n/a (no point beats the reference yet)"
            if value is None
            else f"hypervolume {share(value)} of the reference box"
        )
        if self._executor is not None:
            self._where = self._executor.where
        parts.append(f"workers: {self._where}")
        return "; ".join(parts) if not counts else ", ".join(parts)


def _feasible(trial: FrozenTrial) -> bool:
    """Whether the trial met every constraint: the violations ``Trial.set_constraint`` stored
    (``records.finish``), all <= 0. ``FrozenTrial.constraints`` gives the same answer but
    builds a dict per trial (0.5 s for the 100,000 trials of a resume); the violations are
    read in place unless the trial has Optuna's old list of constraints."""
    attrs = trial.system_attrs
    if _OLD_CONSTRAINTS in attrs:
        constraints = trial.constraints
        values = constraints.values() if isinstance(constraints, dict) else constraints
        return all(v <= 0 for v in values)
    for key, value in attrs.items():
        if key.startswith(_CONSTRAINT_PREFIX) and not value <= 0:
            return False
    return True


def _feasible_rows(trials: Sequence[FrozenTrial]) -> np.ndarray:
    """``_feasible`` of each trial, a column per constraint key at a time (a resume starts
    with 100,000 trials); trials with Optuna's old list of constraints, or a violation that is
    not a number, are judged one by one."""
    attrs = [t.system_attrs for t in trials]
    keys = {k for k in set().union(*attrs) if k.startswith(_CONSTRAINT_PREFIX)}
    if _OLD_CONSTRAINTS in set().union(*attrs):
        return np.array([_feasible(t) for t in trials], dtype=bool)
    feasible = np.ones(len(trials), dtype=bool)
    try:
        for key in keys:  # a trial without the key: that constraint does not judge it
            violations = np.fromiter(
                (a.get(key, 0.0) for a in attrs), dtype=float, count=len(attrs)
            )
            feasible &= violations <= 0  # NaN is not <= 0: infeasible, as in _feasible
    except (TypeError, ValueError):
        return np.array([_feasible(t) for t in trials], dtype=bool)
    return feasible


_OLD_CONSTRAINTS = "constraints"
_CONSTRAINT_PREFIX = "constraints:"
