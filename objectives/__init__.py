"""objectives: a calibrated simulator of Linux kernel memory policies.

Usable on its own::

    from objectives import baseline, load_scenario, simulate
    metrics = simulate(baseline(), load_scenario("thread-churn-20"), seed=0)
    metrics["clone_throughput_per_s"]
    simulate_batch([baseline(), other], scenario)  # many policies, each as ``simulate``

Policy families (stacks, percpu, pid, tiering) are registered units: see
``objectives.family.Family`` for the interface and ``objectives.registry`` for the list.
"""

from __future__ import annotations

from objectives.errors import InputError
from objectives.family import Family, LoopFigures, Part
from objectives.machine import simulate, simulate_batch
from objectives.metrics import (
    CATALOGUE,
    HARD_LIMITS,
    Metrics,
    MetricSpec,
    hard_limits,
    metric_catalogue,
)
from objectives.percpu_params import PercpuPolicy
from objectives.pid_params import PidPolicy
from objectives.policy import Knob, Policy, baseline, knob_catalogue, policy_from_mapping
from objectives.registry import FAMILIES, register_family, registered, unregister_family
from objectives.scenario import Scenario, builtin_scenarios, load_scenario, scenario_from_mapping
from objectives.stacks_params import StackPolicy
from objectives.tiering_params import TierPolicy

__all__ = [
    "CATALOGUE",
    "FAMILIES",
    "HARD_LIMITS",
    "Family",
    "InputError",
    "Knob",
    "LoopFigures",
    "MetricSpec",
    "Metrics",
    "Part",
    "PercpuPolicy",
    "PidPolicy",
    "Policy",
    "Scenario",
    "StackPolicy",
    "TierPolicy",
    "baseline",
    "builtin_scenarios",
    "hard_limits",
    "knob_catalogue",
    "load_scenario",
    "metric_catalogue",
    "policy_from_mapping",
    "register_family",
    "registered",
    "scenario_from_mapping",
    "simulate",
    "simulate_batch",
    "unregister_family",
]
