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
    hard_max: float | None = None  # a limit no policy may exceed (a risk, not a trade-off)


_SPECS = (
    # The whole machine.
    MetricSpec(
        "kernel_memory_bytes",
        "bytes",
        "minimize",
        "kernel memory of the modelled families together: stacks, percpu, PID "
        "allocator, page tables and slab",
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
        "cpu_overhead_fraction",
        "fraction",
        "minimize",
        "machine CPU time spent in the policies' mechanisms: stack faults and "
        "downgrades, percpu initialisation and summing, spinning on the PID and percpu "
        "locks, kernel-page migration and reclaim (sum of the *_cpu_fraction metrics "
        "and the lock spinning)",
        "machine",
    ),
    # The task-creation paths (PID, stack, percpu and slow-tier parts added up).
    MetricSpec(
        "clone_throughput_per_s",
        "ops/s",
        "maximize",
        "thread create+exit operations per second, all churners together",
        "clone",
    ),
    MetricSpec(
        "clone_latency_mean_ns",
        "ns",
        "minimize",
        "mean duration of one thread create+exit",
        "clone",
    ),
    MetricSpec(
        "clone_latency_p99_ns",
        "ns",
        "minimize",
        "99th percentile duration of one thread create+exit",
        "clone",
    ),
    MetricSpec(
        "fork_throughput_per_s",
        "ops/s",
        "maximize",
        "process fork+exec+exit operations per second, all churners together",
        "clone",
    ),
    MetricSpec(
        "fork_latency_mean_ns",
        "ns",
        "minimize",
        "mean duration of one fork+exec+exit (also reported when the workload has no "
        "forks: what one would take on this loaded machine)",
        "clone",
    ),
    MetricSpec(
        "fork_latency_p99_ns",
        "ns",
        "minimize",
        "99th percentile duration of one fork+exec+exit",
        "clone",
    ),
    # PID allocation.
    MetricSpec(
        "pid_bytes",
        "bytes",
        "minimize",
        "PID allocator memory over all namespace levels: struct pid objects, the "
        "IDR nodes or the carved ranges (bitmap + pid pointer array) and their index",
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
        "mean time per task creation spent waiting for PID allocator locks",
        "pid",
    ),
    # Kernel stacks.
    MetricSpec(
        "stack_bytes",
        "bytes",
        "minimize",
        "committed kernel stack memory: live threads, per-CPU cached stacks and "
        "per-CPU growth reserves",
        "stacks",
    ),
    MetricSpec(
        "stack_faults_per_s",
        "1/s",
        "minimize",
        "stack growth faults per second, whole machine",
        "stacks",
    ),
    MetricSpec(
        "stack_cpu_fraction",
        "fraction",
        "minimize",
        "machine CPU time spent in stack growth faults and downgrades",
        "stacks",
    ),
    MetricSpec(
        "stack_overflows_per_day",
        "1/day",
        "minimize",
        "expected stack growths that cannot be served (a kernel panic), whole machine; "
        "a hard limit of 0: a policy with any risk is infeasible",
        "stacks",
        hard_max=0.0,
    ),
    # The percpu allocator.
    MetricSpec(
        "percpu_bytes",
        "bytes",
        "minimize",
        "percpu memory: boot-time areas, memcgs, mm counters and cached objects, over "
        "the CPU units allocated",
        "percpu",
    ),
    MetricSpec(
        "percpu_lock_utilization",
        "fraction",
        "minimize",
        "busy share of the percpu allocator's global pcpu_lock",
        "percpu",
    ),
    MetricSpec(
        "percpu_lock_wait_ns",
        "ns",
        "minimize",
        "mean time per task creation spent waiting for pcpu_lock",
        "percpu",
    ),
    MetricSpec(
        "percpu_cpu_fraction",
        "fraction",
        "minimize",
        "machine CPU time spent initialising and summing percpu counters of new mms",
        "percpu",
    ),
    MetricSpec(
        "cpu_online_latency_us",
        "us",
        "minimize",
        "extra time to bring one CPU online: populating every percpu chunk for it "
        "when allocating for online CPUs only (0 when allocating for possible CPUs)",
        "percpu",
    ),
    # Kernel allocations on a slow tier.
    MetricSpec(
        "kernel_fast_bytes",
        "bytes",
        "minimize",
        "page tables, stacks and slab on the fast tier (time-averaged)",
        "tiering",
    ),
    MetricSpec(
        "kernel_slow_bytes",
        "bytes",
        "minimize",
        "page tables, stacks and slab on the slow tier (time-averaged)",
        "tiering",
    ),
    MetricSpec(
        "kernel_access_latency_ns",
        "ns",
        "minimize",
        "mean load latency of cache-missing kernel-object accesses",
        "tiering",
    ),
    MetricSpec(
        "workload_slowdown_fraction",
        "fraction",
        "minimize",
        "extra CPU time the workload stalls on kernel objects placed on the slow tier, "
        "over its time with every kernel object on the fast tier",
        "tiering",
    ),
    MetricSpec(
        "migration_bytes_per_s",
        "bytes/s",
        "minimize",
        "kernel pages migrated from the slow to the fast tier per second",
        "tiering",
    ),
    MetricSpec(
        "reclaim_pages_per_s",
        "pages/s",
        "minimize",
        "data pages reclaimed early because kernel allocations must use the fast tier",
        "tiering",
    ),
    MetricSpec(
        "oom_kills_per_day",
        "1/day",
        "minimize",
        "expected OOM kills because the fast tier cannot hold the fast-only kernel "
        "allocations and what cannot be reclaimed",
        "tiering",
    ),
    MetricSpec(
        "tiering_cpu_fraction",
        "fraction",
        "minimize",
        "machine CPU time spent migrating kernel pages and reclaiming",
        "tiering",
    ),
)

CATALOGUE: dict[str, MetricSpec] = {spec.name: spec for spec in _SPECS}

HARD_LIMITS: dict[str, float] = {
    spec.name: spec.hard_max for spec in _SPECS if spec.hard_max is not None
}
"""Risk metrics every search constrains, whatever the job says (a stack overflow panics)."""


def metric_catalogue() -> dict[str, MetricSpec]:
    """Every metric the simulator returns, by name (a copy)."""
    return dict(CATALOGUE)


def hard_limits() -> dict[str, float]:
    """Risk metric -> its hard limit (a copy of ``HARD_LIMITS``)."""
    return dict(HARD_LIMITS)


@dataclass(frozen=True)
class Metrics:
    """Simulated metrics: an immutable mapping from catalogue name to value."""

    values: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        unknown = [name for name in self.values if name not in CATALOGUE]
        if unknown:
            raise ValueError(f"metrics not in the catalogue: {unknown}")
        clean = {name: float(self.values[name]) for name in CATALOGUE if name in self.values}
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
