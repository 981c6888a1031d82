"""``policysearch delete STUDY``: delete a study and its trials, after asking.

The question is one line on stderr; the answer one line on stdin: ``y`` or ``yes`` deletes,
anything else (or end of input) deletes nothing and exits 1. ``--yes`` skips the question, for
scripts. Deleting is Optuna's ``delete_study``: in a journal file it appends a deletion record
(the file keeps the study's history and only grows), in a database it removes the rows.
A missing storage or study is bad input (exit 2) and changes nothing.
"""

from __future__ import annotations

import argparse
import sys

import optuna

from policysearch.commands.arguments import add_storage
from policysearch.run.storage import describe, load_study, open_storage

YES = ("y", "yes")


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add ``delete`` to ``sub`` (the subcommands); return its parser."""
    parser = sub.add_parser("delete", help="delete a study and its trials (asks first)")
    parser.add_argument("study", help="name of the study to delete (`studies` lists them)")
    add_storage(parser)
    parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    return parser


def run(args: argparse.Namespace) -> int:
    """Delete the study after asking (``--yes``: without asking).

    Args:
        args: the parsed ``delete`` arguments.

    Returns:
        0 when deleted, 1 when the answer was not yes.

    Raises:
        BadInput: a missing storage or study (nothing is changed).
    """
    storage = open_storage(args.storage, must_exist=True)
    load_study(storage, args.study, args.storage)  # a missing study: one line, exit 2
    trials = storage.get_n_trials(storage.get_study_id_from_name(args.study))
    what = f"study {args.study!r} ({trials} trial{'' if trials == 1 else 's'})"
    where = describe(args.storage)
    if not args.yes:
        print(f"delete {what} from {where}? [y/N] ", end="", file=sys.stderr, flush=True)
        answer = sys.stdin.readline() if sys.stdin is not None else ""
        if not (answer.endswith("\n") and sys.stdin.isatty()):
            print(file=sys.stderr)  # nobody typed (and echoed) the end of the question's line
        if answer.strip().lower() not in YES:
            print(f"not deleted: {what} is kept", file=sys.stderr)
            return 1
    optuna.delete_study(study_name=args.study, storage=storage)
    print(f"deleted {what} from {where}")
    return 0
