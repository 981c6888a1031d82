"""The metric catalogue and the ``Metrics`` a simulation returns.

``MetricSpec`` is declared in ``objectives.core.metric_spec``; the specs themselves live
beside what computes them: the machine-wide ones in ``objectives.engine.simulate``, the
task-creation ones in ``objectives.engine.creation`` (both pushed into the registry as its
core metrics), each family's in its model module (``Family.metrics``), and the catalogue
follows the family registry. Every metric name carries its unit. ``direction``
says which way is better, so a job can name a metric as an objective without restating it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from objectives.core.metric_spec import MetricSpec
from objectives.core.registry import FAMILIES, core_metrics, per_registry


def metric_catalogue() -> dict[str, MetricSpec]:
    """Every metric the simulator returns, by name, in catalogue order (a copy).

    The machine-wide metrics (``objectives.engine.simulate``), the task-creation metrics
    (``objectives.engine.creation``), then each registered family's (``Family.metrics``).
    """
    return dict(_live())


def hard_limits() -> dict[str, float]:
    """Risk metric -> its hard limit, over every registered family (a copy)."""
    return {name: spec.hard_max for name, spec in _live().items() if spec.hard_max is not None}


def risk_metrics() -> tuple[str, ...]:
    """Metrics that count harm done, over every registered family (``Family.risk_metrics``)."""
    return tuple(name for family in FAMILIES.values() for name in family.risk_metrics)


@per_registry
def _live() -> dict[str, MetricSpec]:
    """The live metric catalogue: core metrics, then each family's in registration order."""
    specs = core_metrics() + tuple(s for f in FAMILIES.values() for s in f.metrics)
    return {spec.name: spec for spec in specs}


class _LiveView(Mapping[str, Any]):
    """A read-only mapping that always shows the current registry's catalogue."""

    def __init__(self, build: Callable[[], Mapping[str, Any]]) -> None:
        self._build = build

    def __getitem__(self, name: str) -> Any:
        return self._build()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._build())

    def __len__(self) -> int:
        return len(self._build())

    def __repr__(self) -> str:
        return repr(dict(self._build()))


CATALOGUE: Mapping[str, MetricSpec] = _LiveView(_live)
"""Metric name -> spec, always the live ``metric_catalogue()`` (a read-only view)."""

HARD_LIMITS: Mapping[str, float] = _LiveView(hard_limits)
"""Risk metrics every search constrains, whatever the job says (a stack overflow panics);
a live read-only view of ``hard_limits()``."""


@dataclass(frozen=True)
class Metrics:
    """Simulated metrics: an immutable mapping from catalogue name to value."""

    values: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        catalogue = _live()
        unknown = [name for name in self.values if name not in catalogue]
        if unknown:
            raise ValueError(f"metrics not in the catalogue: {unknown}")
        clean = {name: float(self.values[name]) for name in catalogue if name in self.values}
        object.__setattr__(self, "values", MappingProxyType(clean))

    def __getitem__(self, name: str) -> float:
        return self.values[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.values)

    def __len__(self) -> int:
        return len(self.values)

    def as_dict(self) -> dict[str, float]:
        """A plain ``dict`` copy (JSON friendly)."""
        return dict(self.values)
