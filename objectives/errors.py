"""The one error the simulator raises for bad input (scenario, policy, knob values)."""

from __future__ import annotations


class InputError(ValueError):
    """Bad user input: names the file (or source), the key path, what was found and expected.

    Attributes:
        source: file name or other origin of the input ("<policy>" when built in code).
        key: dotted key path inside the source, e.g. ``workload.churn_processes``.
        detail: what was found and what is expected.
    """

    def __init__(self, source: str, key: str, detail: str) -> None:
        self.source = source
        self.key = key
        self.detail = detail
        where = f"{source}: {key}" if key else source
        super().__init__(f"{where}: {detail}")
