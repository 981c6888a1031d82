"""``policysearch dashboard STUDY``: serve a study in optuna-dashboard until Ctrl-C
(``policysearch.outputs.dashboard``)."""

from __future__ import annotations

import argparse

from policysearch.commands.arguments import STUDY_HELP, add_storage, non_negative
from policysearch.outputs.dashboard import DEFAULT_HOST, DEFAULT_PORT, serve


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add ``dashboard`` to ``sub`` (the subcommands); return its parser."""
    parser = sub.add_parser(
        "dashboard", help="serve a study in optuna-dashboard (web UI) until Ctrl-C"
    )
    parser.add_argument("study", help=STUDY_HELP)
    add_storage(parser)
    parser.add_argument(
        "--host",
        default=DEFAULT_HOST,
        help="address to listen on (default: %(default)s, this machine only)",
    )
    parser.add_argument(
        "--port",
        type=non_negative,
        default=DEFAULT_PORT,
        help="default: %(default)s; 0 picks a free one",
    )
    return parser


def run(args: argparse.Namespace) -> int:
    """Serve until Ctrl-C.

    Args:
        args: the parsed ``dashboard`` arguments.

    Returns:
        0 (Ctrl-C ends it as an interruption).

    Raises:
        BadInput: a missing storage or study, or a host or port that cannot be listened on.
    """
    serve(args.study, args.storage, host=args.host, port=args.port)
    return 0
