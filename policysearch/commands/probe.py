"""``policysearch probe``: write a scenario file from this host's /proc and /sys.

Every value in the file is marked ``measured`` or ``default`` (or ``derived`` from measured
values) with where it came from; ``policysearch evaluate baseline --scenario FILE`` then
compares the model's KernelStack and Percpu with the figures measured here
(``policysearch.hostprobe``).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import yaml

from objectives import scenario_from_mapping
from policysearch.errors import BadInput
from policysearch.hostprobe import host_report, probe
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
        help="also run a short thread- and fork-churn benchmark with 1..N processes "
        "(default N: online CPUs, at most 4) and fit workload.clone_work_ns and fork_work_ns",
    )
    return parser


def run(args: argparse.Namespace) -> int:
    """Write the scenario file from ``--root``; print the host's figures against the model's.

    Args:
        args: the parsed ``probe`` arguments.

    Returns:
        0 (failures raise).

    Raises:
        BadInput: no ``proc/meminfo`` under ``--root``, a missing folder, or a bad ``--bench``.
    """
    root = Path(args.root)
    if not (root / "proc" / "meminfo").is_file():
        raise BadInput("--root", "", f"found no proc/meminfo under {str(root)!r}")
    where = destination.check(args.out)  # before the work: a folder or a device is refused
    bench = 0
    if args.bench is not None:
        if not 0 <= args.bench <= MAX_BENCH_PROCESSES:
            raise BadInput("--bench", "", f"found {args.bench}, expected 1..{MAX_BENCH_PROCESSES}")
        bench = args.bench or min(4, os.cpu_count() or 1)
    text = probe(root, name=args.name, bench=bench)
    # never leave a file that does not load
    scenario = scenario_from_mapping(yaml.safe_load(text), source=str(args.out))
    destination.write(args.out, text)
    from objectives import baseline, simulate

    print(f"wrote {args.out}: scenario {scenario.name}{where.note}")
    report = host_report(args.out, simulate(baseline(), scenario).as_dict())
    if report:
        print(report)
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
