"""The toy's knob reaches Linux as a (made-up) sysctl, ``kernel.toy_level``."""

from __future__ import annotations

from objectives import KnobMapping, Setting
from tests.objectives.toy_family.params import ToyPolicy

KNOB_MAPPINGS = {"toy.level": KnobMapping("sysctl", "kernel.toy_level", "tests: the toy family")}


def settings(policy: ToyPolicy) -> list[Setting]:
    """The toy's one line, always written."""
    return [Setting("sysctl", "kernel.toy_level", str(policy.level), ("toy.level",), "toy")]
