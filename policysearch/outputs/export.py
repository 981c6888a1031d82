"""Policy files: one chosen policy as YAML, with its predicted metrics and provenance.

Format (version 1)::

    format: policysearch-policy/1
    policy:                  # knobs grouped by family; missing knobs mean the baseline's
      pid: {lock_mode: once, range_width: 250, range_share_cpus: 1, refill_batch: 1}
    predicted:               # what the search measured, and on what
      scenario: thread-churn-20
      seed: 0
      metrics: {clone_throughput_per_s: 976432.68, ...}
      scenario_spec: {...}   # the full scenario, so the prediction can be re-run as it was
      # a study of a scenario mix instead: scenario_specs: [{...}, ...], every scenario in
      # full, and metrics named M@SCENARIO, M:weighted... (the mix's own)
    provenance: {study, trial, storage, selection, sampler, sampler_seed, package_version,
                 created}
    uncertainty:             # only for a study run under an uncertainty plan
      plan: {draws: 64, method: lhs, seed: 0, statistic: quantile, quantile: 0.9, constants: [...]}
      robustness: 0.94       # share of the draws in which the point is on the front (null:
                             # the trial is not on the front)
      metrics: {...}         # what the search optimised: the plan's statistic over the draws
      spread: {clone_latency_p99_ns: [low, median, high], ...}   # 5th, 50th, 95th percentile

Under a plan, ``predicted.metrics`` are the policy's metrics with the model's constants as
they are (what ``evaluate`` reproduces); ``uncertainty.metrics`` and ``spread`` are over the
plan's draws.

``evaluate`` re-simulates the policy; on the predicted scenario (every scenario of a mix) with
the predicted seed it reproduces ``predicted.metrics`` exactly.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from optuna.trial import FrozenTrial

from objectives import (
    Policy,
    Problem,
    Scenario,
    policy_from_mapping,
    read_yaml,
    scenario_from_mapping,
    shorten,
)
from policysearch import __version__
from policysearch.errors import BadInput
from policysearch.outputs import destination
from policysearch.run import records
from policysearch.run.study_meta import StudyInfo

FORMAT = "policysearch-policy/1"
EXPORT_FORMATS = ("yaml", "sysctl", "cmdline")
"""``export --format``: the policy file, or the kernel settings (``kernel_settings``)."""


@dataclass(frozen=True)
class PolicyFile:
    """A policy read from a file, with what it was predicted to do."""

    policy: Policy
    scenario_name: str | None
    scenarios: tuple[Scenario, ...]  # what it was predicted on: one scenario, or a mix's
    seed: int
    metrics: dict[str, float]
    provenance: dict[str, Any]


def policy_document(
    policy: Policy,
    trial: FrozenTrial,
    info: StudyInfo,
    storage: str,
    selection: str,
    robustness: float | None = None,
) -> dict[str, Any]:
    """The YAML document of an exported policy (``robustness``: the trial's share of the
    uncertainty plan's draws on the front, for a study with a plan).

    A study stores its scenario in full (every scenario of a mix, with the mix's metrics
    ``M@SCENARIO``, ``M:weighted``...), so ``evaluate`` re-runs the prediction as it was.
    """
    scenarios = info.problem.scenarios()
    stored = records.metrics(trial)
    nominal = info.nominal_problem
    predicted: dict[str, Any] = {
        "scenario": nominal.name,
        "seed": records.seed(trial, info.sim_seed),
        "metrics": stored if nominal is info.problem else _nominal(nominal, info, trial),
    }
    if len(scenarios) == 1:
        predicted["scenario_spec"] = scenarios[0].to_mapping()
    else:
        predicted["scenario_specs"] = [s.to_mapping() for s in scenarios]
    return {
        "format": FORMAT,
        "policy": policy.grouped(),
        "predicted": predicted,
        "provenance": {
            "study": info.name,
            "trial": trial.number,
            "storage": storage,
            "selection": selection,
            "sampler": info.sampler,
            "sampler_seed": info.sampler_seed,
            "package_version": __version__,
            "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        },
        **_uncertainty(info, trial, stored, robustness),
    }


def _nominal(problem: Problem, info: StudyInfo, trial: FrozenTrial) -> dict[str, float]:
    """The trial's point evaluated with the model's constants as they are (no draw)."""
    return {k: float(v) for k, v in problem.evaluate(info.point(trial.params)).items()}


def _uncertainty(
    info: StudyInfo, trial: FrozenTrial, stored: dict[str, float], robustness: float | None
) -> dict[str, Any]:
    """The ``uncertainty`` section of a study run under a plan (empty mapping without one)."""
    if info.plan is None:
        return {}
    return {
        "uncertainty": {
            "plan": info.plan.to_mapping(),
            "robustness": robustness,
            "metrics": stored,
            "spread": {m: list(s) for m, s in records.spread(trial).items()},
        }
    }


def write_policy(path: Path, document: dict[str, Any]) -> None:
    """Write a policy file (atomically: a partial file never replaces a good one)."""
    destination.write(path, yaml.safe_dump(document, sort_keys=False))


def write_settings(
    path: Path, kind: str, policy: Policy, scenarios: tuple[Scenario, ...], trial: int
) -> None:
    """Write a policy as ``sysctl.conf(5)`` lines or boot parameters (``kind``).

    Settings that depend on the machine (``kernel.pid_max``, ``nr_cpus=``) come from the
    study's first scenario; a scenario mix lists the others in the header.
    """
    from policysearch.outputs.kernel_settings import (
        kernel_settings,
        render_cmdline,
        render_sysctl,
    )

    scenario = scenarios[0]
    header = f"policysearch {__version__}: trial {trial}, settings for scenario {scenario.name}" + (
        f" (mix: also {', '.join(s.name for s in scenarios[1:])})" if scenarios[1:] else ""
    )
    settings = kernel_settings(policy, scenario)
    render = render_sysctl if kind == "sysctl" else render_cmdline
    destination.write(path, render(settings, header=header, knobs=policy.knobs()))


def read_policy(path: Path) -> PolicyFile:
    """Read and validate a policy file.

    Raises:
        BadInput: naming the file and key at fault.
    """
    source = str(path)
    data = read_yaml(path)
    if not isinstance(data, dict):
        raise BadInput(source, "(top level)", "expected a mapping with format and policy")
    if data.get("format") != FORMAT:
        raise BadInput(
            source, "format", f"found {shorten(data.get('format'))}, expected {FORMAT!r}"
        )
    if "policy" not in data:
        raise BadInput(source, "policy", "missing required key")
    policy = policy_from_mapping(data["policy"], source=source, path="policy")
    predicted = data.get("predicted") or {}
    if not isinstance(predicted, dict):
        raise BadInput(source, "predicted", "expected a mapping")
    scenarios = _predicted_scenarios(predicted, source)
    seed = predicted.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**32:
        raise BadInput(
            source, "predicted.seed", f"found {shorten(seed)}, expected an integer in [0, 2^32)"
        )
    metrics = predicted.get("metrics") or {}
    if not isinstance(metrics, dict):
        raise BadInput(source, "predicted.metrics", "expected a mapping of metric -> value")
    for name, value in metrics.items():
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise BadInput(
                source, f"predicted.metrics.{name}", f"found {shorten(value)}, expected a number"
            )
    return PolicyFile(
        policy=policy,
        scenario_name=predicted.get("scenario"),
        scenarios=scenarios,
        seed=seed,
        metrics={str(k): float(v) for k, v in metrics.items()},
        provenance=data.get("provenance") or {},
    )


def _predicted_scenarios(predicted: dict[str, Any], source: str) -> tuple[Scenario, ...]:
    """``predicted.scenario_spec`` (one scenario) or ``predicted.scenario_specs`` (a mix)."""
    one, mix = predicted.get("scenario_spec"), predicted.get("scenario_specs")
    if one is not None and mix is not None:
        raise BadInput(
            source, "predicted", "has both scenario_spec and scenario_specs, expected one"
        )
    if one is not None:
        return (scenario_from_mapping(one, source=f"{source} (predicted.scenario_spec)"),)
    if mix is None:
        return ()
    if not isinstance(mix, list) or not mix:
        raise BadInput(
            source,
            "predicted.scenario_specs",
            f"found {shorten(mix)}, expected a list of scenarios",
        )
    return tuple(
        scenario_from_mapping(spec, source=f"{source} (predicted.scenario_specs[{i}])")
        for i, spec in enumerate(mix)
    )
