"""Calibration of the stack and percpu models against the figures of seeds 000 and 002.

Seed 000 (Thomas Gleixner, "Re: [PATCH v2 00/13] Dynamic Kernel Stacks"): "256 CPUs, 256 GiB
Memory, 64k Threads ... 64k * 12k = 768MB of memory which is 0.29% of the total 256 GiB" and
"1M * 12k = 12G which is 4.7% of the overall available memory".

Seed 002 (Bharata B Rao, "CPU hotplug awareness in percpu allocator"): a powerpc KVM guest
with 16 online and 1024 possible CPUs: Percpu 1441792 kB (possible) / 22528 kB (online) at
boot, 4390912 kB / 68608 kB after creating 1000 memcgs.

Kernel: THREAD_SIZE is 16 KiB on x86_64 (arch/x86/include/asm/page_64_types.h).
"""

from __future__ import annotations

import pytest

from objectives import baseline, load_scenario, simulate

MIB = 1 << 20
KB = 1024  # /proc/meminfo's "kB" are KiB

DYNAMIC_4K = {"stacks.initial_kib": 4}


def _saving(scenario_name: str) -> tuple[float, float]:
    scenario = load_scenario(scenario_name)
    fixed = simulate(baseline(), scenario)
    dynamic = simulate(baseline().with_knobs(DYNAMIC_4K), scenario)
    saved = fixed["kernel_memory_bytes"] - dynamic["kernel_memory_bytes"]
    return saved, saved / scenario.machine.memory_bytes


def test_seed000_64k_threads_all_fitting_4k_save_768mib_029_percent() -> None:
    saved, share = _saving("x86-256cpu-64k-threads")
    assert saved == pytest.approx(768 * MIB, rel=1e-9)
    assert round(100 * share, 2) == 0.29


def test_seed000_1m_threads_save_12gib_47_percent() -> None:
    saved, share = _saving("x86-256cpu-1m-threads")
    assert saved == pytest.approx(12 * 1024 * MIB, rel=1e-9)
    assert round(100 * share, 1) == 4.7


def test_kernel_baseline_commits_16kib_of_stack_per_thread() -> None:
    scenario = load_scenario("x86-256cpu-64k-threads")
    stack = simulate(baseline(), scenario)["stack_bytes"]
    assert stack == 65_536 * 16 * 1024


@pytest.mark.parametrize(
    ("scenario_name", "possible_kb", "online_kb"),
    [
        ("ppc-guest-16of1024-boot", 1_441_792, 22_528),
        ("ppc-guest-16of1024-1000memcgs", 4_390_912, 68_608),
    ],
)
def test_seed002_percpu_for_possible_versus_online_cpus(
    scenario_name: str, possible_kb: int, online_kb: int
) -> None:
    scenario = load_scenario(scenario_name)
    possible = simulate(baseline(), scenario)["percpu_bytes"]
    online = simulate(baseline().with_knobs({"percpu.allocate_for": "online"}), scenario)[
        "percpu_bytes"
    ]
    assert possible == pytest.approx(possible_kb * KB, rel=0.10)
    assert online == pytest.approx(online_kb * KB, rel=0.10)
    # The RFC's ratio: 1024 possible / 16 online.
    assert possible / online == pytest.approx(64, rel=1e-9)


def test_seed002_boot_figures_are_exact() -> None:
    scenario = load_scenario("ppc-guest-16of1024-boot")
    assert simulate(baseline(), scenario)["percpu_bytes"] == 1_441_792 * KB
