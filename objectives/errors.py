"""The one input-error type of both packages: bad input a user can fix.

``objectives`` raises it for a bad scenario, policy or knob value; ``policysearch`` raises the
same type for a bad argument, job, policy file or study name (``policysearch.errors.BadInput``
is this class), and its command line exits with ``exit_code`` 2 and the message on one line.
"""

from __future__ import annotations


class InputError(ValueError):
    """Bad user input: names the file (or source), the key path, what was found and expected.

    Attributes:
        source: file name or other origin of the input ("<policy>" when built in code).
        key: dotted key path inside the source, e.g. ``workload.churn_processes``.
        detail: what was found and what is expected.
    """

    exit_code = 2

    def __init__(self, source: str, key: str, detail: str) -> None:
        self.source = source
        self.key = key
        self.detail = detail
        where = f"{source}: {key}" if key else source
        super().__init__(f"{where}: {detail}")
