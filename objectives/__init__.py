"""objectives: a calibrated simulator of Linux kernel memory policies.

Usable on its own::

    from objectives import baseline, load_scenario, simulate
    metrics = simulate(baseline(), load_scenario("thread-churn-20"))
    metrics["clone_throughput_per_s"]
    simulate_batch([baseline(), other], scenario)  # many policies, each as ``simulate``

This module is the public face: ``policysearch`` imports only from it. Layers, each importing
only those before it:

* ``objectives.core``: errors, units, limits, the YAML reader, field and metric specs, the
  ``Family`` interface, ``Policy``, ``Scenario`` and the registry (a store);
* ``objectives.engine``: the contended-lock solvers, the task-creation loop, ``simulate()``;
* ``objectives.families``: one folder per policy family (stacks, percpu, pid, tiering), each
  registering itself in that order (the evaluation order);
* ``objectives.problems``: the ``Problem`` interface and its kinds (scenario, mix, benchmark);
* ``objectives.uncertainty``: draws of the assumed constants, ``UncertainProblem``,
  robustness and sensitivity (issue 21);
* ``objectives.calibration``: the model card, every published figure the model is checked
  against (each family's ``figures.py``).
"""

from __future__ import annotations

from objectives.calibration import figures
from objectives.calibration.figure import Figure
from objectives.core.arch import ARCHITECTURES
from objectives.core.constants import constant_table
from objectives.core.errors import InputError, one_of
from objectives.core.family import Family, FamilyPart, LoopFigures
from objectives.core.fields import KINDS, convert
from objectives.core.kernel import KnobMapping, Setting
from objectives.core.limits import PID_MAX_LIMIT, RESERVED_PIDS, default_pid_max
from objectives.core.metric_spec import MetricSpec
from objectives.core.metrics import (
    CATALOGUE,
    HARD_LIMITS,
    Metrics,
    hard_limits,
    metric_catalogue,
    risk_metrics,
)
from objectives.core.overrides import scenario_under
from objectives.core.policy import Knob, Policy, baseline, knob_catalogue, policy_from_mapping
from objectives.core.provenance import Constant
from objectives.core.reading import read_yaml, shorten
from objectives.core.registry import FAMILIES, register_family, registered, unregister_family
from objectives.core.scenario import (
    Scenario,
    Workload,
    builtin_scenarios,
    live_tasks,
    load_scenario,
    scenario_from_mapping,
    scenario_keys,
)
from objectives.core.units import GIB
from objectives.engine.simulate import simulate, simulate_batch, simulate_grid
from objectives.families.percpu.model import percpu_boot_bytes
from objectives.families.percpu.params import PercpuPolicy
from objectives.families.pid.params import PidPolicy
from objectives.families.stacks.params import StackPolicy
from objectives.families.tiering.params import TierPolicy
from objectives.problems import ScenarioProblem
from objectives.problems.base import Problem, problem_from_job, problem_from_mapping, problem_kinds
from objectives.problems.benchmarks import BENCHMARKS
from objectives.problems.mix import AGGREGATES, aggregate_name, split_name
from objectives.uncertainty import (
    DEFAULT_SAMPLES,
    MAX_DRAWS,
    Sensitivity,
    UncertainProblem,
    UncertaintyPlan,
    assumed_constants,
    draw_table,
    draw_values,
    drawable_constants,
    plan_from_mapping,
    robustness,
    sensitivity,
)

Part = FamilyPart
"""The former name of ``FamilyPart`` (kept so that run-time families written for it work)."""

__all__ = [
    "AGGREGATES",
    "ARCHITECTURES",
    "BENCHMARKS",
    "CATALOGUE",
    "DEFAULT_SAMPLES",
    "FAMILIES",
    "GIB",
    "HARD_LIMITS",
    "KINDS",
    "MAX_DRAWS",
    "PID_MAX_LIMIT",
    "RESERVED_PIDS",
    "Constant",
    "Family",
    "FamilyPart",
    "Figure",
    "InputError",
    "Knob",
    "KnobMapping",
    "LoopFigures",
    "MetricSpec",
    "Metrics",
    "Part",
    "PercpuPolicy",
    "PidPolicy",
    "Policy",
    "Problem",
    "Scenario",
    "ScenarioProblem",
    "Sensitivity",
    "Setting",
    "StackPolicy",
    "TierPolicy",
    "UncertainProblem",
    "UncertaintyPlan",
    "Workload",
    "aggregate_name",
    "assumed_constants",
    "baseline",
    "builtin_scenarios",
    "constant_table",
    "convert",
    "default_pid_max",
    "draw_table",
    "draw_values",
    "drawable_constants",
    "figures",
    "hard_limits",
    "knob_catalogue",
    "live_tasks",
    "load_scenario",
    "metric_catalogue",
    "one_of",
    "percpu_boot_bytes",
    "plan_from_mapping",
    "policy_from_mapping",
    "problem_from_job",
    "problem_from_mapping",
    "problem_kinds",
    "read_yaml",
    "register_family",
    "registered",
    "risk_metrics",
    "robustness",
    "scenario_from_mapping",
    "scenario_keys",
    "scenario_under",
    "sensitivity",
    "shorten",
    "simulate",
    "simulate_batch",
    "simulate_grid",
    "split_name",
    "unregister_family",
]
