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
from objectives.policy import PidPolicy, Policy, baseline, knob_catalogue, policy_from_mapping
from objectives.scenario import Scenario, builtin_scenarios, load_scenario

__all__ = [
    "CATALOGUE",
    "InputError",
    "MetricSpec",
    "Metrics",
    "PidPolicy",
    "Policy",
    "Scenario",
    "baseline",
    "builtin_scenarios",
    "knob_catalogue",
    "load_scenario",
    "policy_from_mapping",
    "simulate",
]
