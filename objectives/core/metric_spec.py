"""``MetricSpec``: one metric's name (with its unit), unit, better direction and meaning.

Declared apart from the catalogue (``objectives.core.metrics``) so that ``Family`` and the
registry can name specs without importing the catalogue, which reads the registry.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MetricSpec:
    """One metric: its name (with unit), unit, better direction and meaning."""

    name: str
    unit: str
    direction: str  # "minimize" or "maximize"
    meaning: str
    family: str
    hard_max: float | None = None  # a limit no policy may exceed (a risk, not a trade-off)
