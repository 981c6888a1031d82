"""The model card: every published figure the model is checked against, in one list.

A ``Figure`` names its source, the scenario (a built-in name or a whole scenario mapping),
the policy (knobs over Linux today), the quantity and the published value with its tolerance.
``figures()`` collects the ``FIGURES`` list of every registered family's ``figures`` module
(``objectives/families/<name>/figures.py``, beside the family's model: a family that has
none simply adds no figure);
``tests/objectives/test_calibration.py`` checks each one and ``policysearch calibration``
prints them with the model's value, so the card cannot drift from the tests.

``objectives.calibration.figure`` says how each quantity is computed.
"""

from __future__ import annotations

import importlib
import importlib.util

from objectives.calibration.figure import HOWS, Figure
from objectives.core.registry import FAMILIES


def figure_modules() -> list[str]:
    """The ``figures`` module of every registered family that has one, in registry order."""
    names = [f"{type(family).__module__}.figures" for family in FAMILIES.values()]
    return [name for name in names if _exists(name)]


def _exists(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:  # the family lives in a module, not a package
        return False


def figures() -> list[Figure]:
    """Every figure of every family's ``figures`` module (``figure_modules``), in order.

    Raises:
        ValueError: a figure is malformed (unknown ``how``, duplicate name).
    """
    out: list[Figure] = []
    for module in figure_modules():
        out.extend(importlib.import_module(module).FIGURES)
    names = [f.name for f in out]
    for figure in out:
        if figure.how not in HOWS:
            raise ValueError(f"figure {figure.name}: how {figure.how!r} is not one of {HOWS}")
        if names.count(figure.name) > 1:
            raise ValueError(f"figure {figure.name} is listed twice")
    return out
