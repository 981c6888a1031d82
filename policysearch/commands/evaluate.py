"""``policysearch evaluate POLICY.yaml|baseline``: re-simulate a policy against today's Linux.

On each ``--scenario`` (default: the one the policy file was predicted on) the policy and the
baseline are simulated; the output compares them metric by metric (the metrics that change
and apply to the scenario; ``--all``: every one, a metric that does not apply as n/a, as the
card says), gives the report card, and
says whether the policy file's stored prediction is reproduced bit for bit. A probed scenario
file also gets the model's baseline against the host's measured figures.

``--uncertainty N`` also simulates both under ``N`` draws of every assumed constant
(``policysearch.analysis.uncertain_card``): each metric gets its interval (5th to 95th
percentile over the draws; JSON ``intervals``) and each verdict its odds (the share of draws
that give it, the baseline simulated under the same draw).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path

from objectives import (
    MAX_DRAWS,
    UncertaintyPlan,
    aggregate_name,
    baseline,
    builtin_scenarios,
    load_scenario,
    metric_catalogue,
    simulate,
)
from policysearch.analysis.report_card import (
    annotate_table,
    card_from_metrics,
    feasibility,
    render_cards,
)
from policysearch.analysis.uncertain_card import DrawRuns, draw_runs, odds_text
from policysearch.commands.arguments import draws, non_negative
from policysearch.errors import BadInput
from policysearch.hostprobe import host_report
from policysearch.outputs.export import read_policy
from policysearch.quantities import change, column


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add ``evaluate`` to ``sub`` (the subcommands); return its parser."""
    parser = sub.add_parser(
        "evaluate",
        help="simulate a policy file (or 'baseline') on a scenario, against the baseline",
    )
    parser.add_argument("policy", help="policy YAML file, or 'baseline'")
    parser.add_argument(
        "--scenario",
        action="append",
        help="built-in name or file (default: the scenario the policy was predicted on); "
        "repeat it to get the report card on several scenarios",
    )
    parser.add_argument(
        "--seed",
        type=non_negative,
        help="the search seed the prediction is checked against (default: the policy "
        "file's); the simulator is deterministic, so no metric depends on it; with "
        "--uncertainty it also picks the draws (default 0)",
    )
    parser.add_argument(
        "--uncertainty",
        type=draws,
        metavar="N",
        help=f"also simulate under N (1 to {MAX_DRAWS:,}) Latin-hypercube draws of every "
        "assumed constant: each metric as an interval (5th to 95th percentile over the "
        "draws) and each verdict with its odds (the share of draws that give it)",
    )
    parser.add_argument(
        "--all",
        action="store_true",
        help="list every metric (default: the metrics that change and apply to the scenario)",
    )
    parser.add_argument(
        "--format",
        choices=("table", "json"),
        default="table",
        help="table: the comparison and the report card (default); json: raw numbers",
    )
    return parser


def run(args: argparse.Namespace) -> int:
    """Simulate the policy and the baseline on each scenario; print the comparison.

    Args:
        args: the parsed ``evaluate`` arguments.

    Returns:
        0 (failures raise).

    Raises:
        BadInput: a missing or bad policy file, a bad scenario, or no scenario to use.
    """
    if args.policy == "baseline":
        policy, stored = baseline(), None
        if not args.scenario:
            raise BadInput(
                "--scenario",
                "",
                "missing; evaluating 'baseline' needs --scenario "
                f"(built-ins: {', '.join(builtin_scenarios())})",
            )
    else:
        path = Path(args.policy)
        if not path.is_file():
            raise BadInput(args.policy, "", "no such policy file (or pass 'baseline')")
        stored = read_policy(path)
        policy = stored.policy
    if args.scenario:
        scenarios = [load_scenario(ref) for ref in args.scenario]
    elif stored is not None and stored.scenarios:
        scenarios = list(stored.scenarios)
    else:
        raise BadInput("--scenario", "", "missing, and the policy file names no predicted scenario")
    scenario = scenarios[0]
    seed = args.seed if args.seed is not None else (stored.seed if stored else 0)
    runs = [(s, simulate(policy, s), simulate(baseline(), s)) for s in scenarios]
    cards = [card_from_metrics(s, mine, today) for s, mine, today in runs]
    metrics, reference = runs[0][1].as_dict(), runs[0][2].as_dict()
    predicted = None
    if (
        stored is not None
        and stored.metrics
        and tuple(scenarios) == stored.scenarios
        and stored.seed == seed
    ):
        predicted = stored.metrics
    matches = None if predicted is None else _reproduces(predicted, runs)
    uncertain: list[DrawRuns] = []
    if args.uncertainty is not None:
        plan = UncertaintyPlan(
            draws=args.uncertainty, seed=args.seed if args.seed is not None else 0
        )
        uncertain = [draw_runs(policy, s, plan) for s in scenarios]
    if args.format == "json":
        print(
            json.dumps(
                {
                    "scenario": scenario.name,
                    "seed": seed,
                    "policy": policy.grouped(),
                    "metrics": metrics,
                    "baseline": reference,
                    "predicted": predicted,
                    "matches_prediction": matches,
                    **feasibility(cards[0]),
                    "not_applicable": cards[0].not_applicable(),
                    **(_uncertain_json(uncertain[0]) if uncertain else {}),
                    "others": [
                        {
                            "scenario": s.name,
                            "metrics": mine.as_dict(),
                            "baseline": today.as_dict(),
                            **(_uncertain_json(uncertain[i + 1]) if uncertain else {}),
                        }
                        for i, (s, mine, today) in enumerate(runs[1:])
                    ],
                    "report_card": [card.as_dict() for card in cards],
                },
                indent=2,
            )
        )
        return 0
    for index, ((each, mine, today), card) in enumerate(zip(runs, cards, strict=True)):
        drawn = uncertain[index] if uncertain else None
        print(f"scenario {each.name} (seed {seed}): policy versus today's Linux (baseline)")
        if drawn is not None:
            plan = drawn.plan
            print(
                f"under {plan.draws} {plan.method} draws (seed {plan.seed}) of the "
                f"{len(plan.constants)} assumed constants: intervals are 5th-95th percentiles"
            )
        table = comparison_table(
            mine.as_dict(),
            today.as_dict(),
            card.not_applicable(),
            every=args.all,
            keep={v.limit for v in card.violations},
            intervals=drawn.intervals() if drawn is not None else None,
        )
        print(annotate_table(table, card))
        print()
        print(render_cards([card], [_odds_line(card, drawn)] if drawn is not None else None))
        print()
    _host_comparisons(args.scenario or [], runs)
    if matches is not None:
        print(
            "prediction reproduced exactly"
            if matches
            else "differs from the prediction stored in the policy file"
        )
    return 0


def _uncertain_json(drawn: DrawRuns) -> dict:
    """The JSON keys ``--uncertainty`` adds for one scenario."""
    return {
        "uncertainty": drawn.plan.to_mapping(),
        "intervals": drawn.intervals(),
        "baseline_intervals": drawn.baseline_intervals(),
        "verdict_odds": drawn.odds(),
    }


def _odds_line(card, drawn: DrawRuns) -> str:
    """The card's verdicts with the share of draws giving each."""
    odds = drawn.odds()
    return (
        f"memory-bound: {odds_text(odds['memory_bound'], card.memory_bound_verdict)}; "
        f"CPU-bound: {odds_text(odds['cpu_bound'], card.cpu_bound_verdict)} "
        f"({drawn.plan.draws} draws)"
    )


def _reproduces(predicted: dict[str, float], runs: list) -> bool:
    """Whether the runs give the stored prediction bit for bit (a mix's: ``M@SCENARIO``)."""
    if len(runs) == 1:
        return all(predicted.get(k) == v for k, v in runs[0][1].as_dict().items() if k in predicted)
    return all(
        predicted.get(aggregate_name(k, s.name)) == v
        for s, mine, _ in runs
        for k, v in mine.as_dict().items()
        if aggregate_name(k, s.name) in predicted
    )


def _host_comparisons(refs: list[str], runs: list) -> None:
    """For probed scenario files: the model's baseline KernelStack/Percpu against the host's."""
    for ref, (_, _, today) in zip(refs, runs, strict=False):
        report = host_report(ref, today.as_dict()) if Path(ref).is_file() else None
        if report:
            print(report)
            print()


def comparison_table(
    metrics: Mapping[str, float],
    reference: Mapping[str, float],
    not_applicable: Mapping[str, str] | None = None,
    every: bool = True,
    keep: Collection[str] = (),
    intervals: Mapping[str, Sequence[float]] | None = None,
) -> str:
    """The policy's metrics against the baseline's, one row per metric, with the change.

    Args:
        metrics: the policy's metrics (name -> value).
        reference: the baseline's metrics, with the same names.
        not_applicable: metric -> why it does not apply (``ScenarioCard.not_applicable``):
            its row reads ``n/a`` and says why, as the card does.
        every: every metric; ``False`` hides the unchanged and the not applicable ones
            (a line under the table counts them).
        keep: metrics shown even when unchanged (a broken hard limit).
        intervals: metric -> (low, high) of the policy's value over draws of the assumed
            constants: a column ``policy 5-95%`` (a metric with no spread reads ``exact``).

    Returns:
        The table, its columns padded, numbers in units people read.
    """
    header: tuple[str, ...] = ("metric", "policy", "baseline", "change")
    if intervals is not None:
        header = (*header[:2], "policy 5-95%", *header[2:])
    catalogue = metric_catalogue()
    why = dict(not_applicable or {})
    rows: list[tuple[str, ...]] = []
    unchanged = skipped = 0
    for name, value in metrics.items():
        base = reference[name]
        if name in why:
            if not every and name not in keep:
                skipped += 1
                continue
            row: tuple[str, ...] = (name, "n/a", "n/a", f"n/a ({why[name]})")
        elif value == base and not every and name not in keep:
            unchanged += 1
            continue
        else:
            unit = getattr(catalogue.get(name), "unit", "")
            mine, today = column([value, base], unit)
            row = (name, mine, today, "0%" if value == base else change(value, base))
        if intervals is not None:
            row = (*row[:2], _interval(intervals.get(name), name, why, catalogue), *row[2:])
        rows.append(row)
    widths = [max(len(r[i]) for r in (header, *rows)) for i in range(len(header))]
    fmt = lambda r: "  ".join(  # noqa: E731
        c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True))
    )
    lines = [fmt(r) for r in (header, *rows)]
    hidden = [
        f"{unchanged} unchanged" if unchanged else "",
        f"{skipped} not applicable" if skipped else "",
    ]
    hidden = [h for h in hidden if h]
    if hidden:
        lines.append(f"({' and '.join(hidden)} metrics hidden; --all shows every metric)")
    return "\n".join(lines)


def _interval(
    bounds: Sequence[float] | None, name: str, why: Mapping[str, str], catalogue: Mapping
) -> str:
    """``low .. high`` in the metric's unit; ``exact`` when no draw moves it."""
    if bounds is None or name in why:
        return "n/a"
    low, high = bounds
    if low == high:
        return "exact"
    a, b = column([low, high], getattr(catalogue.get(name), "unit", ""))
    return f"{a} .. {b}"
