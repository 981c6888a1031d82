"""Errors of the search service and how the CLI reports them.

``BadInput`` (exit code 2) is anything the user can fix in an argument or a file: the message
names the file or argument, the key path, what was found and what is expected. It is the
simulator's ``objectives.InputError`` itself (one type for both packages), so bad input found
in a scenario or a knob needs no conversion on its way to the command line.
``RunFailure`` (exit code 1) is a failure while running (a worker crashed, a storage error).
``os_cause`` names what the machine refused (a full disk, a read-only file system) in words,
for the one line a run-time failure is reported in.
"""

from __future__ import annotations

import errno
import os

from objectives import InputError

BadInput = InputError
"""Bad input: an argument, a job config, a scenario, a policy file, a study name (exit 2)."""


class PolicySearchError(Exception):
    """Base class of run-time failures; ``exit_code`` is what the CLI exits with."""

    exit_code = 1


class RunFailure(PolicySearchError):
    """A failure at run time."""

    exit_code = 1


_CAUSES = {
    errno.ENOSPC: "disk full (no space left on device)",
    errno.EDQUOT: "disk quota exceeded",
    errno.EFBIG: "file too large for its file system",
    errno.EROFS: "read-only file system",
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
    errno.ENOENT: "no such file or folder",
    errno.ENAMETOOLONG: "file name too long",
    errno.EISDIR: "is a folder",
    errno.ENOTDIR: "a part of the path is not a folder",
    errno.EIO: "input/output error (a failing disk, or a network file system gone away)",
    errno.ESTALE: "stale file handle (the network file system lost the file)",
}


def os_cause(exc: OSError) -> str:
    """What went wrong with the machine, in words: ``disk full (no space left on device)``."""
    if exc.errno in _CAUSES:
        return _CAUSES[exc.errno]
    if exc.errno:
        return os.strerror(exc.errno).lower()
    return " ".join(str(exc).split())[:200] or type(exc).__name__
