"""``policysearch sensitivity STUDY|POLICY.yaml``: which assumed constant to measure first.

Ranks the assumed constants by their total-order Sobol' index (``objectives.sensitivity``:
SALib, Saltelli sampling, after a one-at-a-time screening) for each output, at one point:

* a policy file: the policy on its predicted scenario (or ``--scenario``); the outputs are the
  report card's metrics (``memory_fraction``, ``cpu_overhead_fraction``, the p99 latency of
  each kind of task the scenario creates), the metrics of each family the policy changes, and
  the verdict's net-gain margin;
* a study: its knee point (or ``--trial N``) on the study's problem (without its uncertainty
  wrapper: the constants are what is varied here); the outputs are the study's objectives, and
  the net-gain margin for a single-scenario study.

The net-gain margin is the card's memory-bound work gain (``report_card``: ``(1 + g)(1 -
dcpu) - 1``) of the policy against the baseline simulated under the same constants; its sign
decides ``net gain`` against ``net loss``.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from objectives import (
    DEFAULT_SAMPLES,
    Metrics,
    Problem,
    ScenarioProblem,
    UncertainProblem,
    baseline,
    load_scenario,
    metric_catalogue,
    sensitivity,
    simulate,
)
from objectives import Sensitivity as Result
from policysearch.analysis.front import select_trial
from policysearch.analysis.opening import open_view
from policysearch.analysis.report_card import card_from_metrics
from policysearch.commands.arguments import STUDY_HELP, add_storage, non_negative
from policysearch.errors import BadInput
from policysearch.outputs.export import read_policy
from policysearch.quantities import share

MARGIN = "net_gain_margin"
"""The output name of the verdict's net-gain margin (a fraction of work)."""
MAX_SAMPLES = 4096


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add ``sensitivity`` to ``sub`` (the subcommands); return its parser."""
    parser = sub.add_parser(
        "sensitivity",
        help="rank the assumed constants by how much of each objective's variance they decide",
    )
    parser.add_argument("target", help=f"a policy YAML file, or a {STUDY_HELP}")
    add_storage(parser)
    parser.add_argument(
        "--scenario",
        help="for a policy file: built-in name or file (default: its predicted scenario)",
    )
    parser.add_argument(
        "--trial", type=non_negative, help="for a study: this trial (default: the knee point)"
    )
    parser.add_argument(
        "--samples",
        type=_samples,
        default=DEFAULT_SAMPLES,
        help=f"base samples N, a power of two (default {DEFAULT_SAMPLES}); the constants "
        "that pass the screening are evaluated N x (constants + 2) times",
    )
    parser.add_argument(
        "--seed", type=non_negative, default=0, help="scrambles the samples (default 0)"
    )
    parser.add_argument(
        "--top", type=int, default=3, help="constants listed per output (default 3)"
    )
    parser.add_argument(
        "--format",
        choices=("table", "json"),
        default="table",
        help="table: the constant to measure first per output (default); json: every index "
        "with its 95%% confidence interval",
    )
    return parser


def run(args: argparse.Namespace) -> int:
    """Rank the constants for the target; print the ranking.

    Returns:
        0 (failures raise).

    Raises:
        BadInput: a bad policy file, scenario, study, trial or option.
    """
    target = _policy_target(args) if _is_file(args.target) else _study_target(args)
    result = sensitivity(
        target["problem"],
        target["points"],
        target["outputs"],
        derive=target["derive"],
        samples=args.samples,
        seed=args.seed,
    )
    if args.format == "json":
        data = {
            "target": target["about"],
            "scenario": target["scenario"],
            "point": target["points"][0],
            **result.as_dict(),
        }
        print(json.dumps(data, indent=2, default=str))
        return 0
    print(render(result, target["about"], max(1, args.top)))
    return 0


def render(result: Result, about: str, top: int) -> str:
    """The ranking as text: per output, the constant to measure first and the runners-up."""
    lines = [
        f"sensitivity of {about}: {result.samples} base samples, {result.evaluations:,} "
        f"evaluations; {len(result.kept)} constants varied, {len(result.screened_out)} "
        "screened out (moving no output, or less than the ones kept)",
        "share of each output's variance a constant decides (total-order Sobol' index):",
    ]
    for name, ranking in result.outputs.items():
        if not ranking:
            why = "no assumed constant moves it" if result.variance[name] == 0 else "not finite"
            lines.append(f"  {name}: {why}")
            continue
        first = ranking[0]
        lines.append(
            f"  measure {first.constant} on your machine first: it decides "
            f"{_share(first.total)} of the variance of {name}"
        )
        rest = [f"{i.constant} {_share(i.total)}" for i in ranking[1:top] if i.total > 0.005]
        if rest:
            lines.append(f"    then {', '.join(rest)}")
    return "\n".join(lines)


def _share(total: float) -> str:
    # the estimator's noise can put an index slightly outside [0, 1]
    return share(min(1.0, max(0.0, total)))


def _is_file(target: str) -> bool:
    return target.endswith((".yaml", ".yml")) or Path(target).is_file()


def _policy_target(args: argparse.Namespace) -> dict[str, Any]:
    path = Path(args.target)
    if not path.is_file():
        raise BadInput(args.target, "", "no such policy file")
    stored = read_policy(path)
    if args.scenario:
        scenario = load_scenario(args.scenario)
    elif stored.scenarios:
        if len(stored.scenarios) > 1:
            raise BadInput(
                "--scenario", "", f"missing; {args.target} was predicted on a mix: name one"
            )
        scenario = stored.scenarios[0]
    else:
        raise BadInput("--scenario", "", "missing, and the policy file names no scenario")
    policy = stored.policy
    card = card_from_metrics(scenario, simulate(policy, scenario), simulate(baseline(), scenario))
    outputs = ["memory_fraction", "cpu_overhead_fraction"]
    outputs += [
        m for m in ("clone_latency_p99_ns", "fork_latency_p99_ns") if m not in card.not_applicable()
    ]
    today = baseline().grouped()
    changed = [family for family, knobs in policy.grouped().items() if knobs != today.get(family)]
    outputs += [
        spec.name
        for spec in metric_catalogue().values()
        if spec.family in changed and spec.name not in outputs
    ]
    outputs.append(MARGIN)
    return {
        "problem": ScenarioProblem(scenario),
        "points": [policy.knobs(), baseline().knobs()],
        "outputs": outputs,
        "derive": _with_margin(outputs),
        "about": f"{args.target} on {scenario.name}",
        "scenario": scenario.name,
    }


def _study_target(args: argparse.Namespace) -> dict[str, Any]:
    view, study = open_view(args.target, args.storage)
    info = view.info
    problem: Problem = info.problem
    if isinstance(problem, UncertainProblem):
        problem = problem.problem
    if not problem.scenarios():
        raise BadInput(
            args.target,
            "",
            f"is a study of {problem.name!r}, not of a kernel scenario: it has no assumed "
            "constants to rank",
        )
    rule = "knee" if args.trial is None else f"trial:{args.trial}"
    trial = select_trial(study, info, rule, view)
    point = info.point(trial.params)
    outputs = [o.metric for o in info.objectives]
    points = [point]
    single = len(problem.scenarios()) == 1 and problem.baseline_params() is not None
    if single:
        points.append(problem.baseline_params())
        outputs.append(MARGIN)
    label = "knee point" if args.trial is None else "trial"
    return {
        "problem": problem,
        "points": points,
        "outputs": outputs,
        "derive": _with_margin(outputs) if single else None,
        "about": f"{label} {trial.number} of study {info.name} on {problem.name}",
        "scenario": problem.name,
    }


def _with_margin(outputs: Sequence[str]):
    """Outputs of one draw: the policy's metrics, and the margin against the baseline (the
    second point) under the same constants."""
    metrics = [name for name in outputs if name != MARGIN]

    def derive(problem: Problem, rows: Sequence[Mapping[str, float]]) -> dict[str, float]:
        values = {name: rows[0][name] for name in metrics}
        scenario = problem.scenarios()[0]
        card = card_from_metrics(scenario, Metrics(dict(rows[0])), Metrics(dict(rows[1])))
        values[MARGIN] = card.memory_bound_gain
        return values

    return derive


def _samples(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 2 <= value <= MAX_SAMPLES or value & (value - 1):
        raise argparse.ArgumentTypeError(
            f"found {text!r}, expected a power of two in [2, {MAX_SAMPLES:,}]"
        )
    return value
