"""``policysearch export STUDY --out FILE``: one policy of a study as a file.

``--format yaml`` writes the policy file (knobs by family, the predicted metrics and their
scenario, provenance); ``sysctl`` and ``cmdline`` write the Linux settings of its knobs
(``policysearch.outputs.export``).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from policysearch.analysis.front import SELECT_HELP, select_trial
from policysearch.analysis.opening import open_view
from policysearch.commands.arguments import STUDY_HELP, add_storage
from policysearch.errors import BadInput
from policysearch.outputs import destination
from policysearch.outputs.export import (
    EXPORT_FORMATS,
    policy_document,
    write_policy,
    write_settings,
)
from policysearch.run.storage import redact


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add ``export`` to ``sub`` (the subcommands); return its parser."""
    parser = sub.add_parser("export", help="export one policy of a study as YAML")
    parser.add_argument("study", help=STUDY_HELP)
    add_storage(parser)
    parser.add_argument("--select", default="knee", help=SELECT_HELP.replace("%", "%%"))
    parser.add_argument("--out", required=True, type=Path, help="file to write")
    parser.add_argument(
        "--format",
        choices=EXPORT_FORMATS,
        default="yaml",
        help="yaml: the policy file (default); sysctl: sysctl.conf(5) lines for the knobs that "
        "are sysctls; cmdline: the boot parameters. Patches and unmapped knobs become comments",
    )
    return parser


def run(args: argparse.Namespace) -> int:
    """Write the selected policy; print what was written.

    Args:
        args: the parsed ``export`` arguments.

    Returns:
        0 (failures raise).

    Raises:
        BadInput: a bad storage, study or ``--select``, a study with no kernel policy, or a
            missing folder.
    """
    view, study = open_view(args.study, args.storage)
    info = view.info
    if not info.problem.scenarios():
        raise BadInput(
            args.study,
            "",
            f"is a study of {info.problem.name!r}, not of a kernel scenario: it has no kernel "
            "policy to export (use `front` to see its points)",
        )
    where = destination.check(args.out)  # before the work: a folder or a device is refused
    trial = select_trial(study, info, args.select, view)
    policy = info.problem.policy(info.point(trial.params))
    if args.format != "yaml":
        write_settings(args.out, args.format, policy, info.problem.scenarios(), trial.number)
    else:
        shares = view.robustness or {}
        document = policy_document(
            policy, trial, info, redact(args.storage), args.select, shares.get(trial.number)
        )
        write_policy(args.out, document)
    print(
        f"wrote {args.out}: trial {trial.number} of {info.name} ({args.select}, {args.format})"
        + where.note
    )
    return 0
