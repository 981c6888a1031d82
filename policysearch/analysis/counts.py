"""How many trials of a study are in each state, read cheaply from the storage.

A journal file is read by the column-wise scan (``run.storage.journal_scan``: states only, no
FrozenTrial); a database through Optuna's storage without copying trials. ``status`` prints
them for a submitted job's study.
"""

from __future__ import annotations

from collections import Counter

from optuna.trial import TrialState

from policysearch.run.storage import load_study, locate


def trial_counts(study_name: str, storage_url: str) -> dict[str, int]:
    """Trials of the study by state name (``COMPLETE``, ``FAIL``, ``RUNNING``...), zeros kept.

    Raises:
        BadInput: a missing storage or study (``run.storage``'s messages).
    """
    storage = locate(storage_url)
    counts: Counter[str] = Counter({s.name: 0 for s in TrialState})
    scanned = storage.scan(study_name)  # None: read through Optuna
    if scanned is not None:
        counts.update(TrialState(int(s)).name for s in scanned.states)
        return dict(counts)
    study = load_study(storage.open(must_exist=True), study_name, storage_url)
    counts.update(t.state.name for t in study.get_trials(deepcopy=False))
    return dict(counts)
