"""Errors of the search service and how the CLI reports them.

``BadInput`` (exit code 2) is anything the user can fix in an argument or a file: the message
names the file or argument, the key path, what was found and what is expected.
``RunFailure`` (exit code 1) is a failure while running (a worker crashed, a storage error).
The simulator's ``objectives.InputError`` is bad input too; the CLI maps it to exit code 2.
"""

from __future__ import annotations


class PolicySearchError(Exception):
    """Base class; ``exit_code`` is what the CLI exits with."""

    exit_code = 1


class BadInput(PolicySearchError):
    """Bad input: an argument, a job config, a scenario, a policy file, a study name."""

    exit_code = 2

    def __init__(self, source: str, key: str, detail: str) -> None:
        self.source, self.key, self.detail = source, key, detail
        where = f"{source}: {key}" if key else source
        super().__init__(f"{where}: {detail}")


class RunFailure(PolicySearchError):
    """A failure at run time."""

    exit_code = 1
