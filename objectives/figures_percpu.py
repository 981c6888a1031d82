"""Published figures that check the percpu model (``objectives.calibration``)."""

from __future__ import annotations

from objectives.calibration_figure import Figure

KB = 1024  # /proc/meminfo's "kB" are KiB
SEED002 = (
    "seed 002: Bharata B Rao, '[RFC PATCH v0 0/3] CPU hotplug awareness in percpu allocator' "
    "(2021-06-01), powerpc KVM guest, 16 online / 1024 possible CPUs, /proc/meminfo Percpu"
)
GUZIK = (
    "Mateusz Guzik, 'kernel/fork: group allocation/free of per-cpu counters for mm struct' "
    "(commit 14ef95be6f55, lore 20230823050609.2228718-3-mjguzik@gmail.com): static execve "
    "benchmark on 26 cores, 133543.63 -> 186061.81 ops/s (+39%)"
)
ONLINE = {"percpu.allocate_for": "online"}


def _doexec(allocs: int, counter_groups: int) -> dict:
    """Guzik's execve benchmark: 26 cores, every task a fork+exec (fork work fitted to 186k)."""
    return {
        "name": f"doexec-26-{allocs}-allocs",
        "machine": {"online_cpus": 26, "possible_cpus": 26, "memory_gib": 64},
        "workload": {
            "churn_processes": 26,
            "fork_fraction": 1.0,
            "fork_work_ns": 128_000,
            "resident_tasks": 500,
            "percpu": {
                "allocs_per_fork": allocs,
                "counter_allocs_per_fork": counter_groups,
                "single_threaded_share": 0.0,
                "resident_processes": 100,
            },
        },
    }


FIGURES = [
    Figure(
        name="seed002-boot-possible",
        source=SEED002 + ": 1441792 kB before the patch",
        scenario="ppc-guest-16of1024-boot",
        metric="percpu_bytes",
        published=1_441_792 * KB,
        tolerance=0.0,
        unit="bytes",
        family="percpu",
    ),
    Figure(
        name="seed002-boot-online",
        source=SEED002 + ": 22528 kB with the patch",
        scenario="ppc-guest-16of1024-boot",
        metric="percpu_bytes",
        published=22_528 * KB,
        policy=ONLINE,
        unit="bytes",
        family="percpu",
    ),
    Figure(
        name="seed002-boot-ratio",
        source=SEED002 + ": 1441792 / 22528 = 64 = 1024 possible / 16 online",
        scenario="ppc-guest-16of1024-boot",
        metric="percpu_bytes",
        published=64.0,
        how="ratio",
        versus=ONLINE,
        tolerance=1e-9,
        family="percpu",
    ),
    Figure(
        name="seed002-1000memcgs-possible",
        source=SEED002 + ": 4390912 kB after creating 1000 memcgs",
        scenario="ppc-guest-16of1024-1000memcgs",
        metric="percpu_bytes",
        published=4_390_912 * KB,
        unit="bytes",
        family="percpu",
    ),
    Figure(
        name="seed002-1000memcgs-online",
        source=SEED002 + ": 68608 kB after creating 1000 memcgs, with the patch",
        scenario="ppc-guest-16of1024-1000memcgs",
        metric="percpu_bytes",
        published=68_608 * KB,
        policy=ONLINE,
        unit="bytes",
        family="percpu",
    ),
    Figure(
        name="guzik-execve-before",
        source=GUZIK + ": before (5 percpu allocations per mm, 4 counter inits)",
        scenario=_doexec(5, 4),
        metric="fork_throughput_per_s",
        published=133_544,
        unit="1/s",
        family="percpu",
    ),
    Figure(
        name="guzik-execve-after",
        source=GUZIK + ": after (2 allocations, 1 counter group)",
        scenario=_doexec(2, 1),
        metric="fork_throughput_per_s",
        published=186_062,
        unit="1/s",
        family="percpu",
    ),
]
