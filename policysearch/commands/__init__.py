"""Commands that live in their own module: one module per command, one line here to add one.

Each module listed in ``MODULES`` defines ``add_parser(sub) -> argparse.ArgumentParser`` (it
adds its subcommand to ``sub`` and returns the parser) and ``run(args) -> int``. The command
line (``policysearch.cli``) builds and dispatches them with the built-in commands; errors are
reported the same way (``BadInput`` exit 2 with one line, ``RunFailure`` exit 1).
"""

from __future__ import annotations

MODULES: list[str] = [
    "policysearch.commands.studies",
    "policysearch.commands.compare",
    "policysearch.commands.delete",
    "policysearch.commands.breakdown",
    "policysearch.commands.probe",
    "policysearch.commands.constants",
    "policysearch.commands.calibration",
]
"""Dotted names of the command modules, in the order ``--help`` lists them."""
