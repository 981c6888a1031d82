"""Behaviour of the percpu-allocator model (seeds 001 and 002)."""

from __future__ import annotations

import dataclasses

import pytest

from objectives import baseline, load_scenario, simulate


@pytest.fixture(scope="module")
def storm():
    return load_scenario("fork-exec-storm")


def _run(scenario, **knobs):
    return simulate(baseline().with_knobs({f"percpu.{k}": v for k, v in knobs.items()}), scenario)


def test_fork_storm_contends_on_pcpu_lock(storm) -> None:
    # Seed 001: "fork+exec ... suffer from the lock contention when many CPUs allocate /
    # free percpu memory concurrently".
    assert _run(storm)["percpu_lock_utilization"] > 0.9


def test_a_per_cpu_cache_relieves_the_lock_for_memory(storm) -> None:
    plain, cached = _run(storm), _run(storm, cache_objects=4)
    assert cached["percpu_lock_utilization"] < plain["percpu_lock_utilization"]
    assert cached["fork_throughput_per_s"] > plain["fork_throughput_per_s"]
    assert cached["percpu_bytes"] > plain["percpu_bytes"]


def test_dual_mode_counters_cut_initialisation_for_single_threaded_forks(storm) -> None:
    # Seed 001 (Jan Kara): the per-fork initialisation "is very visible e.g. in the fork()
    # intensive loads such as shell scripts"; dual-mode counters skip it for single threads.
    eager, dual = _run(storm), _run(storm, counter_mode="dual")
    assert dual["percpu_cpu_fraction"] < 0.2 * eager["percpu_cpu_fraction"]
    assert dual["fork_latency_mean_ns"] < eager["fork_latency_mean_ns"]
    assert dual["percpu_bytes"] < eager["percpu_bytes"]


def test_lazy_counters_initialise_only_touched_cpus(storm) -> None:
    eager, lazy = _run(storm), _run(storm, counter_mode="lazy")
    assert lazy["percpu_cpu_fraction"] < eager["percpu_cpu_fraction"]
    assert lazy["percpu_bytes"] == eager["percpu_bytes"]


def test_initialisation_grows_with_possible_cpus(storm) -> None:
    bigger = dataclasses.replace(storm.machine, possible_cpus=4 * storm.machine.possible_cpus)
    wide = dataclasses.replace(storm, machine=bigger)
    assert _run(wide)["percpu_cpu_fraction"] > _run(storm)["percpu_cpu_fraction"]
    # pcpu_lock is saturated in the storm: the latency is the lock's queue, so longer private
    # work leaves it unchanged at most (a closed loop at its bottleneck)
    assert _run(wide)["fork_latency_mean_ns"] >= 0.999 * _run(storm)["fork_latency_mean_ns"]
    # with pcpu_lock relieved by a cache (2 objects: a fork+exec+exit builds 2 mms, so 1 left
    # the lock saturated; 4 or more make pidmap_lock the bottleneck), the wider
    # initialisation shows in the latency
    assert (
        _run(wide, cache_objects=2)["fork_latency_mean_ns"]
        > _run(storm, cache_objects=2)["fork_latency_mean_ns"]
    )


def test_online_only_allocation_pays_at_cpu_hotplug() -> None:
    # Seed 002: memory saved against the cost of populating chunks when a CPU comes online.
    guest = load_scenario("ppc-guest-16of1024-1000memcgs")
    assert _run(guest)["cpu_online_latency_us"] == 0.0
    assert _run(guest, allocate_for="online")["cpu_online_latency_us"] > 0.0


def test_thread_churn_takes_no_percpu_lock() -> None:
    churn = load_scenario("thread-churn-20")
    assert _run(churn)["percpu_lock_utilization"] == 0.0
    assert _run(churn)["fork_throughput_per_s"] == 0.0
