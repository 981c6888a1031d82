"""``Acquisition``: one lock trip of an operation, the word families and the engine share.

A family's ``FamilyPart`` lists its trips; the contention engine (``objectives.engine``)
solves the loop that takes them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Acquisition:
    """One acquisition of a lock during an operation.

    Attributes:
        lock: name of the lock (one of ``ClosedLoop.sharers``).
        hold_ns: critical-section work while holding the lock, ns (excludes the hand-off).
        back_to_back: taken again right after releasing the same lock.
        remote: probability that this acquisition targets another group's instance of the lock
            (always a cache-line hand-off), 0..1.
        rate: expected number of such acquisitions per operation (may be fractional, e.g. a
            refill every ``1 / rate`` operations).
        fork_only: taken only by fork operations (a new mm), not by thread creations.
    """

    lock: str
    hold_ns: float
    back_to_back: bool = False
    remote: float = 0.0
    rate: float = 1.0
    fork_only: bool = False
