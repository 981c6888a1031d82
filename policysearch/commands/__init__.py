"""The commands: one module per command, one registration style, one line here to add one.

Each module in ``COMMANDS`` defines two functions:

* ``add_parser(sub) -> argparse.ArgumentParser``: adds its subcommand to ``sub`` (the command
  line's subparsers) and returns the parser;
* ``run(args) -> int``: does the command and returns its exit code.

The command line (``policysearch.cli``) registers them in this order, which is the order
``--help`` lists them in, and reports their errors one way: ``BadInput`` exit code 2 in one
line, ``RunFailure`` exit code 1. Arguments and text several commands share are in
``arguments`` and ``text``.
"""

from __future__ import annotations

from types import ModuleType

from policysearch.commands import (
    breakdown,
    calibration,
    compare,
    constants,
    dashboard,
    delete,
    evaluate,
    export,
    front,
    jobs,
    knobs,
    logs,
    metrics,
    probe,
    report,
    run,
    scenarios,
    sensitivity,
    status,
    stop,
    studies,
    submit,
    trial,
    trials,
    validate,
)

COMMANDS: tuple[ModuleType, ...] = (
    run,
    front,
    trials,
    trial,
    report,
    export,
    evaluate,
    sensitivity,
    validate,
    scenarios,
    knobs,
    metrics,
    dashboard,
    submit,
    status,
    logs,
    stop,
    jobs,
    studies,
    compare,
    delete,
    breakdown,
    probe,
    constants,
    calibration,
)
"""The command modules, in the order ``--help`` lists them."""
