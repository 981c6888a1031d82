"""``policysearch probe``: write a scenario file from this host's /proc and /sys.

Every value in the file is marked ``measured`` or ``default`` (or ``derived`` from measured
values) with where it came from; ``policysearch evaluate baseline --scenario FILE`` then
compares the model's KernelStack and Percpu with the figures measured here
(``policysearch.hostprobe``). ``--bench`` also measures this host (thread and fork rates,
KernelStack per parked thread, Percpu per memcg: ``policysearch.hostbench``), prints each
figure next to the model's prediction for the probed scenario, and writes the constants they
determine into the scenario as ``fitted on this host (probe --bench, DATE)``.
``--format json`` prints ``{scenario_file, scenario, host, validation: [{quantity, measured,
model, unit, relative_error, kind, note}], fitted: {key: {value, origin, note}}}``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import yaml

from objectives import baseline, scenario_from_mapping, simulate
from policysearch import hostbench
from policysearch.errors import BadInput
from policysearch.hostbench.checks import render_checks, snapshot_checks
from policysearch.hostprobe import compare_with_host, read_host, read_measured, render_comparison
from policysearch.hostprobe import probe as probe_text
from policysearch.outputs import destination

MAX_BENCH_PROCESSES = 64


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add ``probe`` to ``sub`` (the subcommands); return its parser."""
    parser = sub.add_parser(
        "probe",
        help="write a scenario from this host's /proc and /sys (values marked measured/default)",
    )
    parser.add_argument("--out", required=True, type=Path, help="scenario YAML file to write")
    parser.add_argument(
        "--root",
        default="/",
        help="folder holding proc/ and sys/ to read (default /: this host; a recorded copy "
        "of another host's files for tests)",
    )
    parser.add_argument("--name", help="scenario name (default host-HOSTNAME)")
    parser.add_argument(
        "--bench",
        nargs="?",
        const=0,
        type=int,
        default=None,
        metavar="N",
        help="also measure this host (a few seconds): thread create+join and fork+exec+exit "
        "rates with 1, N and 2N processes (default N: the CPUs this process may run on, at "
        f"most {MAX_BENCH_PROCESSES}), KernelStack per parked thread, Percpu per memcg "
        "(where a cgroup is writable); print each next to the model and fit the constants "
        "they determine into the scenario",
    )
    parser.add_argument(
        "--cgroup",
        type=Path,
        help="with --bench: the cgroup folder to create memcgs in (default: this process's "
        "own cgroup: cgroup v2 with the memory controller, else the cgroup v1 memory one)",
    )
    parser.add_argument(
        "--format",
        choices=("table", "json"),
        default="table",
        help="table: the comparison as text (default); json: one object with `validation`",
    )
    return parser


def run(args: argparse.Namespace) -> int:
    """Write the scenario file from ``--root``; print the host's figures against the model's.

    Args:
        args: the parsed ``probe`` arguments.

    Returns:
        0 (failures raise).

    Raises:
        BadInput: no ``proc/meminfo`` under ``--root``, a missing folder, a bad ``--bench``,
            ``--bench`` with a recorded ``--root``, or ``--cgroup`` without ``--bench``.
    """
    root = Path(args.root)
    if not (root / "proc" / "meminfo").is_file():
        raise BadInput("--root", "", f"found no proc/meminfo under {str(root)!r}")
    if args.bench is not None:
        if not 0 <= args.bench <= MAX_BENCH_PROCESSES:
            raise BadInput("--bench", "", f"found {args.bench}, expected 1..{MAX_BENCH_PROCESSES}")
        if root.resolve() != Path("/"):
            raise BadInput(
                "--bench",
                "",
                f"measures this host, found it with --root {str(root)!r}; expected --root / "
                "(the default)",
            )
    elif args.cgroup is not None:
        raise BadInput("--cgroup", "", "found without --bench; it names where --bench works")
    where = destination.check(args.out)  # before the work: a folder or a device is refused
    facts = read_host(root)  # before the bench, whose threads and memcgs would show
    fitted, rows, note = None, [], ""
    if args.bench is not None:
        cpus = args.bench or min(MAX_BENCH_PROCESSES, hostbench.cpu_count())
        date = time.strftime("%Y-%m-%d")
        measured = hostbench.measure(cpus, cgroup=args.cgroup)
        fitted, rows = hostbench.fit(measured, facts, date)
        note = f"probe --bench {date}, {cpus} CPUs: " + render_checks(rows)
    text = probe_text(root, name=args.name, facts=facts, fitted=fitted, note=note)
    # never leave a file that does not load
    scenario = scenario_from_mapping(yaml.safe_load(text), source=str(args.out))
    destination.write(args.out, text)
    measured_figures = read_measured(args.out) or {}
    comparisons = compare_with_host(simulate(baseline(), scenario).as_dict(), measured_figures)
    wrote = f"wrote {args.out}: scenario {scenario.name}{where.note}"
    if args.format == "json":
        print(wrote, file=sys.stderr)
        document = {
            "scenario_file": str(args.out),
            "scenario": scenario.name,
            "host": facts.hostname,
            "validation": [row.as_dict() for row in [*rows, *snapshot_checks(comparisons)]],
            "fitted": {
                key: {"value": value.value, "origin": value.origin, "note": value.note}
                for key, value in (fitted or {}).items()
            },
        }
        print(json.dumps(document, indent=2))
        return 0
    print(wrote)
    if comparisons:
        print(render_comparison(comparisons, measured_figures.get("stack_tasks")))
    if rows:
        print(render_checks(rows))
    return 0


def main(argv: list[str] | None = None) -> int:
    """``python -m policysearch.commands.probe``: the command on its own."""
    parser = argparse.ArgumentParser(prog="policysearch")
    sub = parser.add_subparsers(dest="command", required=True)
    add_parser(sub)
    args = parser.parse_args(["probe", *(sys.argv[1:] if argv is None else argv)])
    try:
        return run(args)
    except BadInput as exc:
        print(f"policysearch: error: {exc}", file=sys.stderr)
        return exc.exit_code


if __name__ == "__main__":
    raise SystemExit(main())
