"""A database that stops answering in the middle of a run: retried with backoff, for a while.

A PostgreSQL server restarted (``pg_ctl restart``, a failover, a maintenance window), a network
blip, a reset connection: each of the run's storage operations from the opening of its study
on (``run.driver``: creating or loading the study; ``run.mirror``: writing a finished trial,
reading other drivers' trials; the target and the summary at the end) that fails on a
*transient* cause is tried again after a pause. The pauses grow from ``FIRST_DELAY_S``,
doubling up to ``MAX_DELAY_S``; after ``budget_s`` seconds of one outage (default
``RETRY_DEFAULT_S``, ``policysearch run --storage-retry``) the run gives up with one line
(``StorageUnreachable``, exit code 1) naming the storage, its password masked, and the cause.
Nothing stored is lost: a trial counts as finished only once its write returned.

Each failed attempt says so on stderr, once per attempt::

    policysearch: PostgreSQL at postgresql://u:***@db:5432/team unreachable (connection
    refused), retrying (attempt 2, next in 1.00 s; gives up after 60.0 s)

and the first success after failures says how long the run waited.

Transient (``transient_cause``): a lost or refused connection (SQLAlchemy saw the connection
invalidated; PostgreSQL's SQLSTATE class 08 and 57P01-57P03: connection failures, an
administrator or crash shutdown, a server starting up; the drivers' messages for a refused,
reset or closed connection), and a database *busy* with other writers (SQLite's "database
is locked", a deadlock or serialization failure: SQLSTATE 40P01, 40001), retried without a
word for its first ``QUIET_BUSY_ATTEMPTS``. Anything else (a full disk on the server, a
constraint) fails at once, as before.

A retried operation must be safe to repeat: reads are; a trial's write is made so by
``rdb_write`` (a write whose commit was lost on the way back is found, not written twice).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from policysearch.errors import RunFailure
from policysearch.quantities import quantity

RETRY_DEFAULT_S = 60.0
"""How long one outage of the database is waited out before the run gives up (seconds)."""
FIRST_DELAY_S = 0.5
"""The pause after the first failed attempt (seconds); each next pause doubles."""
MAX_DELAY_S = 8.0
"""The longest pause between two attempts (seconds)."""

T = TypeVar("T")

_DRIVERS = ("sqlalchemy", "psycopg2", "psycopg", "sqlite3", "pymysql", "MySQLdb")
_SQLSTATES = ("57P01", "57P02", "57P03")  # admin shutdown, crash shutdown, cannot connect now
_MESSAGES = (
    "connection refused",
    "could not connect",
    "server closed the connection",
    "terminating connection",
    "connection reset",
    "connection timed out",
    "connection already closed",
    "connection is closed",
    "could not receive data",
    "could not send data",
    "ssl connection has been closed",
    "the database system is starting up",
    "the database system is shutting down",
    "the database system is in recovery mode",
    "no connection to the server",
    "lost connection",
    "server has gone away",
    "can't connect",
)
_BUSY = (
    "database is locked",
    "deadlock detected",
    "could not serialize access",
    "lock wait timeout",
)
_BUSY_SQLSTATES = ("40P01", "40001")  # deadlock, serialization failure
QUIET_BUSY_ATTEMPTS = 2
"""A database busy with other writers (a lock, a deadlock) is retried silently this many
times (1.5 s of pauses): several drivers on one SQLite file meet such locks now and then."""
_NAMES = {
    "postgresql": "PostgreSQL",
    "postgres": "PostgreSQL",
    "mysql": "MySQL",
    "sqlite": "SQLite",
}


def transient_cause(exc: BaseException) -> str | None:
    """The cause of ``exc`` in a few words if it is a transient loss of the database (the
    module doc), else ``None``."""
    chain: list[BaseException] = []
    seen: BaseException | None = exc
    while seen is not None and seen not in chain:
        chain.append(seen)
        seen = seen.__cause__ or seen.__context__
    found = [e for e in chain if type(e).__module__.split(".")[0] in _DRIVERS]
    for error in found:
        root = getattr(error, "orig", None) or error
        lines = [line.strip() for line in str(root).splitlines() if line.strip()]
        first = lines[0] if lines else type(root).__name__
        lowered = " ".join(lines).lower()
        code = str(getattr(root, "pgcode", None) or "")
        if (
            getattr(error, "connection_invalidated", False)
            or code.startswith("08")
            or code in _SQLSTATES + _BUSY_SQLSTATES
            or any(message in lowered for message in _MESSAGES + _BUSY)
        ):
            return _short(first)
    return None


def _short(line: str) -> str:
    """The cause without what names the storage (shown elsewhere): ``connection to server at
    "h", port 5432 failed: Connection refused`` -> ``connection refused``; ``FATAL:  the
    database system is shutting down`` -> ``the database system is shutting down``."""
    tail = line.rsplit("failed:", 1)[-1].strip() or line
    for level in ("FATAL:", "ERROR:"):
        tail = tail.removeprefix(level).strip()
    tail = tail[:200]
    if tail[1:2].islower():  # a capitalised word, not an acronym
        tail = tail[:1].lower() + tail[1:]
    return tail


class StorageUnreachable(RunFailure):
    """The database stayed unreachable for the whole retry budget (exit code 1)."""


class OutageRetry:
    """Runs storage operations, waiting out transient outages (the module doc).

    Args:
        shown: the storage as users may see it (password masked).
        dialect: the URL's scheme (``postgresql``...), for the line's wording.
        budget_s: how long one outage is waited out, in seconds.
        say: prints one status line (without the ``policysearch:`` prefix).
        clock, sleep: time, replaceable to test the schedule on its own.
    """

    def __init__(
        self,
        shown: str,
        dialect: str,
        budget_s: float,
        say: Callable[[str], None],
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.shown = shown
        self.name = _NAMES.get(dialect.split("+", 1)[0].lower(), "the database")
        self.budget_s = budget_s
        self._say, self._clock, self._sleep = say, clock, sleep
        self.gave_up: StorageUnreachable | None = None
        self.waited_s = 0.0
        """Seconds spent waiting out outages in this run."""

    def call(self, first: Callable[[], T], again: Callable[[], T] | None = None) -> T:
        """``first()``; after a transient failure, ``again()`` (default: ``first``) until it
        works or the budget is spent.

        Raises:
            StorageUnreachable: the budget is spent (or was spent by an earlier call: a run
                that gave up on its storage does not wait again on its way out).
            Exception: a failure that is not transient, as raised.
        """
        if self.gave_up is not None:
            raise self.gave_up
        attempt, started, said = 0, None, False
        operation = first
        while True:
            try:
                result = operation()
            except Exception as exc:
                cause = transient_cause(exc)
                if cause is None:
                    raise
                state = "busy" if is_busy(cause) else "unreachable"
                now = self._clock()
                started = now if started is None else started
                attempt += 1
                spent = now - started
                if spent >= self.budget_s:
                    self.waited_s += spent
                    self.gave_up = StorageUnreachable(
                        f"{self.name} at {self.shown} {state} for {_seconds(spent)} "
                        f"({attempt} attempts; --storage-retry {_seconds(self.budget_s)}): "
                        f"{cause}; finished trials are stored, run the same command to "
                        "continue once it answers"
                    )
                    raise self.gave_up from exc
                delay = min(FIRST_DELAY_S * 2 ** (attempt - 1), MAX_DELAY_S, self.budget_s - spent)
                if state == "unreachable" or attempt > QUIET_BUSY_ATTEMPTS:
                    said = True
                    self._say(
                        f"{self.name} at {self.shown} {state} ({cause}), retrying (attempt "
                        f"{attempt}, next in {_seconds(delay)}; gives up after "
                        f"{_seconds(self.budget_s)})"
                    )
                self._sleep(delay)
                operation = again or first
                continue
            if started is not None:
                spent = self._clock() - started
                self.waited_s += spent
                if said:
                    self._say(
                        f"{self.name} at {self.shown} answers again after {_seconds(spent)} "
                        f"({attempt} failed attempt{'s' * (attempt != 1)}); the run continues"
                    )
            return result


def is_busy(cause: str) -> bool:
    """``cause`` (of ``transient_cause``) is a database busy with other writers, not gone."""
    lowered = cause.lower()
    return any(busy in lowered for busy in _BUSY)


def _seconds(value: float) -> str:
    return quantity(value, "s")


def direct(first: Callable[[], T], again: Callable[[], T] | None = None) -> T:
    """``first()``: a storage operation with no outage to wait out (a journal file)."""
    return first()


def through(outage: OutageRetry | None) -> Callable[..., T]:
    """How a run calls its storage, ``call(first, again=None)``: through ``outage``'s retry
    (``OutageRetry.call``), or directly when there is none (a journal file)."""
    return outage.call if outage is not None else direct
