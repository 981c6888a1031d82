"""What the driver tells whoever follows a run: the hooks, as documented no-ops.

The driver (``run.driver``) calls them as the run goes; ``outputs.progress`` draws them (a bar
on a terminal, plain lines in a log). Every hook is optional: this base class does nothing, so
a quiet run passes it as is.

* ``started(study, trials, target, executor)``: once, when the executor is up and the study is
  open, with the finished trials the study already holds (a resumed or joined study);
* ``finished(trials)``: after each batch is made durable, with its told trials (any state),
  and with the trials other drivers finished that the driver took in;
* ``stopped(reason)``: the run stopped asking for new trials before its target (the time
  budget); it goes on to finish the trials in flight;
* ``notice(line)``: something the user must see even in a quiet run (a database being waited
  for); the one hook that is not a no-op: it prints ``policysearch: LINE`` on stderr;
* ``close()``: once at the end, whatever happened.

The hooks must be cheap: ``finished`` runs on the driver's loop between two batches.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any, TextIO

import optuna
from optuna.trial import FrozenTrial


class RunProgress:
    """Hooks a run calls (module doc); each a documented no-op here."""

    @property
    def messages(self) -> TextIO | None:
        """Where the run's own status lines go (Ray starting, and how long it took); ``None``:
        nowhere (``--quiet``)."""
        return None

    def started(
        self, study: optuna.Study, trials: Sequence[FrozenTrial], target: int, executor: Any
    ) -> None:
        """The run starts: the stored study, its finished trials, the target, the executor."""

    def finished(self, trials: Sequence[FrozenTrial]) -> None:
        """Trials just finished (this driver's, durable now, or other drivers')."""

    def stopped(self, reason: str) -> None:
        """The run asks for no more trials (``reason``: why, for people)."""

    def notice(self, line: str) -> None:
        """A line the user must see, quiet or not (``policysearch: LINE`` on stderr)."""
        print(f"policysearch: {line}", file=sys.stderr, flush=True)

    def close(self) -> None:
        """The run is over."""
