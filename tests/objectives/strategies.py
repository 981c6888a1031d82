"""Hypothesis strategies: random policies over every knob, random but valid scenarios."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from objectives import Policy, Scenario, baseline, knob_catalogue
from objectives.core.limits import PID_MAX_LIMIT, RESERVED_PIDS
from objectives.core.scenario import scenario_from_mapping


def _knob_values(knob) -> st.SearchStrategy[Any]:
    if knob.choices is not None:
        return st.sampled_from(knob.choices)
    low, high = knob.meta.get("min"), knob.meta.get("max")
    if knob.type is int:
        return st.integers(low, min(high, 1 << 16))
    return st.floats(low, min(high, 1e6), allow_nan=False)


@st.composite
def policies(draw: st.DrawFn) -> Policy:
    """A policy with every knob drawn within its documented bounds."""
    values = {name: draw(_knob_values(knob)) for name, knob in knob_catalogue().items()}
    return baseline().with_knobs(values)


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    """A valid scenario: machine shapes up to 512 CPUs, every family's workload varied."""
    online = draw(st.integers(1, 512))
    possible = draw(st.integers(online, 2048))
    memory = draw(st.floats(4.0, 2048.0))
    slow = draw(st.one_of(st.just(0.0), st.floats(0.0, memory * 0.9)))
    shares = [draw(st.floats(0.0, 1.0)) for _ in range(4)]
    total = sum(shares) or 1.0
    shares = [s / total for s in shares]
    shares[0] = 1.0 - sum(shares[1:]) if sum(shares) else 1.0
    churn = draw(st.integers(0, 600))
    # Linux refuses more tasks than pid_max and threads-max allow: raise both as an admin
    # would, and keep the tasks within them.
    resident = draw(st.integers(0, min(2_000_000, PID_MAX_LIMIT - RESERVED_PIDS - 2 * churn)))
    data = {
        "machine": {
            "online_cpus": online,
            "possible_cpus": possible,
            "memory_gib": memory,
            "pid_max": PID_MAX_LIMIT,
            "threads_max": 2 * PID_MAX_LIMIT,
            "tiers": {
                "slow_gib": slow,
                "slow_latency_ns": draw(st.floats(100.0, 500.0)),
            },
        },
        "workload": {
            "churn_processes": churn,
            "fork_fraction": draw(st.floats(0.0, 1.0)),
            "resident_tasks": resident,
            "ns_depth": draw(st.integers(1, 4)),
            "stacks": {
                "depth_share_4k": max(0.0, shares[0]),
                "depth_share_8k": shares[1],
                "depth_share_12k": shares[2],
                "depth_share_16k": shares[3],
                "redeep_per_s": draw(st.floats(0.0, 100.0)),
            },
            "percpu": {
                "memcgs": draw(st.integers(0, 5000)),
                "resident_processes": draw(st.integers(0, 100_000)),
                "single_threaded_share": draw(st.floats(0.0, 1.0)),
            },
            "tiering": {
                "data_gib": draw(st.floats(0.0, memory * 1.5)),
                "peak_extra_gib": draw(st.floats(0.0, memory * 0.5)),
                "peak_share": draw(st.floats(0.0, 1.0)),
                "slab_gib": draw(st.floats(0.0, memory * 0.1)),
            },
        },
    }
    return scenario_from_mapping(data, source="<hypothesis>")
