"""Errors of the search service and how the CLI reports them.

``BadInput`` (exit code 2) is anything the user can fix in an argument or a file: the message
names the file or argument, the key path, what was found and what is expected. It is the
simulator's ``objectives.InputError`` itself (one type for both packages), so bad input found
in a scenario or a knob needs no conversion on its way to the command line.
``RunFailure`` (exit code 1) is a failure while running (a worker crashed, a storage error).
"""

from __future__ import annotations

from objectives import InputError

BadInput = InputError
"""Bad input: an argument, a job config, a scenario, a policy file, a study name (exit 2)."""


class PolicySearchError(Exception):
    """Base class of run-time failures; ``exit_code`` is what the CLI exits with."""

    exit_code = 1


class RunFailure(PolicySearchError):
    """A failure at run time."""

    exit_code = 1
