"""A finished trial written to an Optuna database exactly once, even when the write is retried.

Optuna's ``RDBStorage.create_new_trial(study_id, template_trial=...)`` writes a whole trial
(the row, its values, parameters, attributes, state) in ONE transaction, under a lock on the
study's row (``SELECT ... FOR UPDATE``) that numbers trials in order. A transaction either
lands whole or not at all; but a connection lost while the COMMIT travels leaves the client
not knowing which, and Optuna's own loop (five attempts on any ``StorageInternalError``) would
then write the trial a second time.

So the run writes through ``write_trial`` instead, one attempt per call (``run.storage.outage``
decides whether to call again), the same transaction as Optuna's with one addition: every
trial carries a random token in the system attribute ``WRITE_KEY``. A call that repeats a
failed one (``look_first``) first looks, in the same transaction and under the same study lock,
for a trial holding that token: found, the earlier commit landed and its id is returned;
absent, the trial is written. The first call does not look, so a healthy run pays nothing but
the token's row.

This uses Optuna's RDB internals (``_create_scoped_session``, ``_get_prepared_new_trial``,
the models), the same ones ``create_new_trial`` runs; ``tests/policysearch/test_outage.py``
runs it against a real PostgreSQL.
"""

from __future__ import annotations

import copy
import json
import uuid

from optuna.storages import RDBStorage
from optuna.trial import FrozenTrial

WRITE_KEY = "policysearch:write"
"""The system attribute holding a trial's write token (a random hex string)."""


def tagged(trial: FrozenTrial) -> tuple[FrozenTrial, str]:
    """A copy of ``trial`` carrying a fresh write token, and the token."""
    token = uuid.uuid4().hex
    copied = copy.copy(trial)
    copied._system_attrs = {**trial.system_attrs, WRITE_KEY: token}
    return copied, token


def write_trial(
    storage: RDBStorage, study_id: int, trial: FrozenTrial, token: str, *, look_first: bool
) -> int:
    """Write finished ``trial`` (tagged with ``token``) to ``study_id``; its trial id.

    Args:
        look_first: an earlier call with this token failed: return the stored trial's id if
            that call's commit landed after all.

    Raises:
        optuna.exceptions.StorageInternalError: the database failed (the cause chained).
    """
    from optuna.storages._rdb import models
    from optuna.storages._rdb.storage import _create_scoped_session

    with _create_scoped_session(storage.scoped_session) as session:
        models.StudyModel.find_or_raise_by_id(study_id, session, for_update=True)
        if look_first:
            found = (
                session.query(models.TrialModel.trial_id)
                .join(
                    models.TrialSystemAttributeModel,
                    models.TrialSystemAttributeModel.trial_id == models.TrialModel.trial_id,
                )
                .filter(models.TrialModel.study_id == study_id)
                .filter(models.TrialSystemAttributeModel.key == WRITE_KEY)
                .filter(models.TrialSystemAttributeModel.value_json == json.dumps(token))
                .first()
            )
            if found is not None:
                return found[0]
        return storage._get_prepared_new_trial(study_id, trial, session).trial_id
