"""objectives: a calibrated simulator of Linux kernel memory policies.

Usable on its own::

    from objectives import baseline, load_scenario, simulate
    metrics = simulate(baseline(), load_scenario("thread-churn-20"), seed=0)
    metrics["clone_throughput_per_s"]
"""

from __future__ import annotations

from objectives.errors import InputError
from objectives.machine import simulate
from objectives.metrics import CATALOGUE, Metrics, MetricSpec
from objectives.percpu_params import PercpuPolicy
from objectives.pid_params import PidPolicy
from objectives.policy import Policy, baseline, knob_catalogue, policy_from_mapping
from objectives.scenario import Scenario, builtin_scenarios, load_scenario
from objectives.stacks_params import StackPolicy
from objectives.tiering_params import TierPolicy

__all__ = [
    "CATALOGUE",
    "InputError",
    "MetricSpec",
    "Metrics",
    "PercpuPolicy",
    "PidPolicy",
    "Policy",
    "Scenario",
    "StackPolicy",
    "TierPolicy",
    "baseline",
    "builtin_scenarios",
    "knob_catalogue",
    "load_scenario",
    "policy_from_mapping",
    "simulate",
]
