"""The toy family's knob and workload section."""

from __future__ import annotations

from dataclasses import dataclass

from objectives.core.fields import spec


@dataclass(frozen=True)
class ToyPolicy:
    level: int = spec(2, min=0, max=10, unit="levels", help="how much the toy keeps")


@dataclass(frozen=True)
class ToyWorkload:
    bytes_per_level: float = spec(
        1000.0, min=0.0, max=1e9, unit="bytes", help="bytes the toy keeps per level"
    )
