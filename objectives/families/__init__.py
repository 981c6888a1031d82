"""The built-in policy families, one folder each, registered here in evaluation order.

A family folder holds ``__init__.py`` (the ``Family`` subclass and ``FAMILY``), ``model.py``
(its equations), ``params.py`` (its knobs and constants, each sourced) and ``kernel.py``
(knob -> Linux setting). Adding a family is that folder plus one line below. Order matters:
a family sees the parts of those registered before it (tiering places the stacks' committed
bytes, so it follows stacks).
"""

from __future__ import annotations

from objectives.core.registry import register_family
from objectives.families import percpu, pid, stacks, tiering

register_family(stacks.FAMILY)
register_family(percpu.FAMILY)
register_family(pid.FAMILY)
register_family(tiering.FAMILY)
