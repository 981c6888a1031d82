"""The metric catalogue and the ``Metrics`` a simulation returns.

Every metric name carries its unit. ``direction`` says which way is better, so a job can name a
metric as an objective without restating it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType


@dataclass(frozen=True)
class MetricSpec:
    """One metric: its name (with unit), unit, better direction and meaning."""

    name: str
    unit: str
    direction: str  # "minimize" or "maximize"
    meaning: str
    family: str


CATALOGUE: dict[str, MetricSpec] = {
    spec.name: spec
    for spec in (
        MetricSpec(
            "kernel_memory_bytes",
            "bytes",
            "minimize",
            "kernel memory held by the modelled families together",
            "machine",
        ),
        MetricSpec(
            "memory_fraction",
            "fraction",
            "minimize",
            "kernel_memory_bytes as a share of the machine's memory",
            "machine",
        ),
        MetricSpec(
            "pid_bytes",
            "bytes",
            "minimize",
            "PID allocator memory over all namespace levels: struct pid objects, the "
            "IDR nodes or the carved ranges (bitmap + pid pointer array) and their index",
            "pid",
        ),
        MetricSpec(
            "clone_throughput_per_s",
            "ops/s",
            "maximize",
            "thread create+exit operations per second, all churners together",
            "pid",
        ),
        MetricSpec(
            "clone_latency_mean_ns",
            "ns",
            "minimize",
            "mean duration of one thread create+exit",
            "pid",
        ),
        MetricSpec(
            "clone_latency_p99_ns",
            "ns",
            "minimize",
            "99th percentile duration of one thread create+exit",
            "pid",
        ),
        MetricSpec(
            "pid_lock_utilization",
            "fraction",
            "minimize",
            "busy share of the busiest PID allocator lock instance (pidmap_lock, a "
            "range lock or the range index lock)",
            "pid",
        ),
        MetricSpec(
            "pid_lock_wait_ns",
            "ns",
            "minimize",
            "mean time per create+exit spent waiting for PID allocator locks",
            "pid",
        ),
    )
}


@dataclass(frozen=True)
class Metrics:
    """Simulated metrics: an immutable mapping from catalogue name to value."""

    values: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        unknown = [name for name in self.values if name not in CATALOGUE]
        if unknown:
            raise ValueError(f"metrics not in the catalogue: {unknown}")
        clean = {name: float(value) for name, value in self.values.items()}
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
