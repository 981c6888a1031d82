"""How a knob reaches a running Linux: ``KnobMapping`` per knob, ``Setting`` per line.

Each family declares its part (``Family.knob_mappings`` and ``Family.kernel_settings``, in
its ``kernel.py``); ``policysearch`` collects them over the registry and writes them out
(``export --format sysctl|cmdline``).
"""

from __future__ import annotations

from dataclasses import dataclass

SRC_SYSCTL = "Documentation/admin-guide/sysctl/kernel.rst"
"""Where the kernel documents its sysctls (cited by a mapping's ``source``)."""
SRC_PARAMS = "Documentation/admin-guide/kernel-parameters.txt"
"""Where the kernel documents its boot parameters (cited by a mapping's ``source``)."""


@dataclass(frozen=True)
class KnobMapping:
    """How one knob reaches a kernel: ``kind`` is sysctl, cmdline, patch or none."""

    kind: str
    target: str
    source: str

    def describe(self) -> str:
        """One line: ``sysctl NAME``, ``cmdline PARAM``, ``patch: SERIES`` or ``none``."""
        if self.kind == "none":
            return f"none ({self.target})" if self.target else "none"
        if self.kind == "patch":
            return f"patch: {self.target}"
        return f"{self.kind} {self.target}"


@dataclass(frozen=True)
class Setting:
    """One line of a kernel configuration.

    Attributes:
        kind: ``sysctl``, ``cmdline``, ``sysfs``, ``patch`` or ``none``.
        name: the sysctl name, boot parameter, sysfs path or patch series.
        value: the value to set (``None`` for patches and unmapped knobs).
        knobs: the knobs this line carries.
        why: one phrase on why (shown as a comment).
        today: the kernel's default for it, when known (``65536``, ``false``; for a patched
            constant, its value in mainline): a setting equal to it changes nothing, so it is
            left out of an exported file, and a comment says so.
    """

    kind: str
    name: str
    value: str | None
    knobs: tuple[str, ...]
    why: str
    today: str | None = None

    @property
    def is_default(self) -> bool:
        """Whether the value is the kernel's default (``today``): nothing to set."""
        return self.value is not None and self.value == self.today
