"""``policysearch evaluate POLICY.yaml|baseline``: re-simulate a policy against today's Linux.

On each ``--scenario`` (default: the one the policy file was predicted on) the policy and the
baseline are simulated; the output compares them metric by metric (the metrics that change
and apply to the scenario; ``--all``: every one, a metric that does not apply as n/a, as the
card says), gives the report card, and
says whether the policy file's stored prediction is reproduced bit for bit. A probed scenario
file also gets the model's baseline against the host's measured figures.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Collection, Mapping
from pathlib import Path

from objectives import (
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
from policysearch.commands.arguments import non_negative
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
        "file's); the simulator is deterministic, so no metric depends on it",
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
                    "others": [
                        {"scenario": s.name, "metrics": mine.as_dict(), "baseline": today.as_dict()}
                        for s, mine, today in runs[1:]
                    ],
                    "report_card": [card.as_dict() for card in cards],
                },
                indent=2,
            )
        )
        return 0
    for (each, mine, today), card in zip(runs, cards, strict=True):
        print(f"scenario {each.name} (seed {seed}): policy versus today's Linux (baseline)")
        table = comparison_table(
            mine.as_dict(),
            today.as_dict(),
            card.not_applicable(),
            every=args.all,
            keep={v.limit for v in card.violations},
        )
        print(annotate_table(table, card))
        print()
        print(render_cards([card]))
        print()
    _host_comparisons(args.scenario or [], runs)
    if matches is not None:
        print(
            "prediction reproduced exactly"
            if matches
            else "differs from the prediction stored in the policy file"
        )
    return 0


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

    Returns:
        The table, its columns padded, numbers in units people read.
    """
    header = ("metric", "policy", "baseline", "change")
    catalogue = metric_catalogue()
    why = dict(not_applicable or {})
    rows = []
    unchanged = skipped = 0
    for name, value in metrics.items():
        base = reference[name]
        if name in why:
            if not every and name not in keep:
                skipped += 1
                continue
            rows.append((name, "n/a", "n/a", f"n/a ({why[name]})"))
            continue
        if value == base and not every and name not in keep:
            unchanged += 1
            continue
        unit = getattr(catalogue.get(name), "unit", "")
        mine, today = column([value, base], unit)
        rows.append((name, mine, today, "0%" if value == base else change(value, base)))
    widths = [max(len(r[i]) for r in (header, *rows)) for i in range(4)]
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
