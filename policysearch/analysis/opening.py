"""Opening a stored study's view: a columnar scan of a journal file when it can, Optuna else.

``open_view`` is what the reading commands (``front``, ``report``, ``export``, ``breakdown``)
use. For a journal file it
reads the study with ``run.storage.journal_scan`` (a 100,000-trial study in well under a second,
against several seconds for Optuna's replay) and builds the view from columns, reading the
FrozenTrials of the front alone. A study the scan does not model (trials written field by
field by plain Optuna, say), a database URL, or any problem with the file goes through
Optuna's storage, whose errors are the commands' input errors: the same answer either way,
only slower.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence

import optuna

from policysearch.analysis.view import StudyView, scanned_view, study_view
from policysearch.run.storage import load_study, locate
from policysearch.run.storage.journal_scan import NotColumnar
from policysearch.run.study_meta import StudyInfo, read

Reference = Callable[[StudyInfo], Sequence[float] | None]
"""The reference point for the view, from the study's facts (``None``: the study's own)."""


def open_view(
    study_name: str, storage_url: str, reference: Reference = lambda info: None
) -> tuple[StudyView, optuna.Study | None]:
    """The view of a stored study, and the Optuna study when it was opened through Optuna.

    Raises:
        BadInput: a missing or unreadable storage, no such study, or a study policysearch
            did not create (the messages of ``run.storage`` and ``run.study_meta``).
    """
    storage = locate(storage_url)
    scanned = storage.scan(study_name)
    if scanned is not None:
        info = read(scanned, storage.shown)
        with contextlib.suppress(NotColumnar):  # then through Optuna, as any other study
            return scanned_view(scanned, info, reference(info)), None
    study = load_study(storage.open(must_exist=True), study_name, storage_url)
    info = read(study, storage.shown)
    return study_view(study, info, reference(info)), study
