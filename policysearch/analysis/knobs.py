"""The searched knobs of a study's COMPLETE trials as columns, without a FrozenTrial per trial.

``KnobColumns`` holds, per knob, its distribution (the first trial's that has the knob, as the
knob plot always took it) and one column of Optuna's internal values (``to_internal_repr``:
the index of the choice for a categorical knob, the number itself for an int or float knob;
NaN where a trial lacks the knob). The knob plot draws those columns.

Two ways to build it, the same columns either way:

* ``from_trials``: from FrozenTrials (a study read through Optuna's storage);
* ``from_journal``: from the ``params`` and ``distributions`` JSON a journal record stores
  (``run.storage.journal_scan.ScannedStudy.raw_params``), decoded in one call for all
  trials. A study whose trials do not all share one set of distributions (the space changed
  between runs) gives ``None``, and the caller builds the columns from FrozenTrials.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import msgspec
import numpy as np
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)
from optuna.trial import FrozenTrial

from policysearch.run.storage.journal_replay import cached_distribution

_DISTRIBUTIONS = msgspec.json.Decoder(dict[str, str])
_MISSING = object()


@dataclass(frozen=True)
class KnobColumns:
    """Per knob: its distribution and its internal values, one per COMPLETE trial (row).

    Attributes:
        distributions: by knob name, in the order knobs were first seen.
        internal: by knob name, the internal values (NaN: the trial lacks the knob).
    """

    distributions: dict[str, BaseDistribution]
    internal: dict[str, np.ndarray]
    shared: bool = False
    """Every trial has exactly these distributions (``from_journal``): a row's parameters
    are its internal values through them (``params``)."""

    def params(self, rows: Sequence[int]) -> list[dict[str, object]]:
        """The parameters of each of ``rows`` as its trial holds them (``to_external_repr``
        of each internal value, a missing knob left out); only for ``shared`` columns."""
        names, columns = [], []
        for knob, dist in self.distributions.items():
            internal = self.internal[knob][np.asarray(rows, dtype=np.intp)]
            names.append(knob)
            if np.isnan(internal).any():
                columns.append([_MISSING if v != v else dist.to_external_repr(v) for v in internal])
            elif isinstance(dist, CategoricalDistribution):
                choices = dist.choices
                columns.append([choices[i] for i in internal.astype(np.intp).tolist()])
            elif isinstance(dist, IntDistribution):
                columns.append(internal.astype(np.int64).tolist())  # int(v), as Optuna's
            elif isinstance(dist, FloatDistribution):
                columns.append(internal.tolist())  # float(v), as Optuna's
            else:
                columns.append([dist.to_external_repr(v) for v in internal])
        return (
            [
                {k: v for k, v in zip(names, values, strict=True) if v is not _MISSING}
                for values in zip(*columns, strict=True)
            ]
            if columns
            else [{} for _ in rows]
        )

    def searched(self) -> list[str]:
        """The knobs whose distribution has more than one value, sorted by name."""
        return sorted(k for k, d in self.distributions.items() if not d.single())


def from_trials(trials: Sequence[FrozenTrial]) -> KnobColumns:
    """The columns of ``trials`` (values outside a knob's first distribution are NaN)."""
    distributions: dict[str, BaseDistribution] = {}
    for trial in trials:
        for knob, dist in trial.distributions.items():
            distributions.setdefault(knob, dist)
    internal = {}
    for knob, dist in distributions.items():
        column = np.full(len(trials), np.nan)
        for row, trial in enumerate(trials):
            if knob in trial.params:
                column[row] = _internal(dist, trial.params[knob])
        internal[knob] = column
    return KnobColumns(distributions, internal)


def from_journal(
    params: Sequence[msgspec.Raw], distributions: Sequence[msgspec.Raw]
) -> KnobColumns | None:
    """The columns from stored records, or ``None`` when the trials' distributions differ."""
    texts = {bytes(d) for d in distributions}
    if len(texts) > 1:
        return None
    dists: dict[str, BaseDistribution] = {}
    if texts:
        text = texts.pop()
        if text:
            dists = {k: cached_distribution(v) for k, v in _DISTRIBUTIONS.decode(text).items()}
    # one small struct per distinct parameter text, not a dict per trial (trials of a
    # discrete space repeat points: a 100,000-trial quick-start study has a few thousand)
    fields = [(f"k{i}", float, msgspec.field(default=np.nan, name=k)) for i, k in enumerate(dists)]
    decoder = msgspec.json.Decoder(list[msgspec.defstruct("Params", fields)])  # type: ignore[misc]
    distinct: dict[bytes, int] = {}
    codes = np.fromiter(
        (distinct.setdefault(bytes(p) if len(p) else b"{}", len(distinct)) for p in params),
        dtype=np.intp,
        count=len(params),
    )
    rows = decoder.decode(b"[" + b",".join(distinct) + b"]")
    internal = {
        knob: np.fromiter((getattr(row, f"k{i}") for row in rows), dtype=float, count=len(rows))[
            codes
        ]
        for i, knob in enumerate(dists)
    }
    return KnobColumns(dists, internal, shared=True)


def _internal(dist: BaseDistribution, value: object) -> float:
    try:
        return float(dist.to_internal_repr(value))
    except ValueError:  # a choice the first distribution does not have
        return float("nan")
