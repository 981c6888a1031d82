"""The one input-error type of both packages: bad input a user can fix.

``objectives`` raises it for a bad scenario, policy or knob value; ``policysearch`` raises the
same type for a bad argument, job, policy file or study name (``policysearch.errors.BadInput``
is this class), and its command line exits with ``exit_code`` 2 and the message on one line.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


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


def one_of(found: object, choices: Iterable[object], *, listed_by: str = "", limit: int = 8) -> str:
    """``expected one of: ...`` for a short list; for a long one, the closest names and where
    the whole list is printed, so an error stays one readable line.

    Args:
        found: what the user wrote (its closest matches are suggested).
        choices: every valid name.
        listed_by: the command that lists them all (``policysearch knobs``).
        limit: lists up to this long are given in full.
    """
    names = [str(c) for c in choices]
    if len(names) <= limit:
        return f"expected one of: {', '.join(names)}"
    close = difflib.get_close_matches(str(found), names, n=3, cutoff=0.6)
    hint = f"did you mean {' or '.join(close)}? " if close else ""
    where = f"`{listed_by}` lists all {len(names)}" if listed_by else ", ".join(names[:limit])
    return f"expected one of {len(names)} names; {hint}{where}"
