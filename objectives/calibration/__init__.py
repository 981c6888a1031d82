"""The model card: every published figure the model is checked against, in one list.

A ``Figure`` names its source, the scenario (a built-in name or a whole scenario mapping),
the policy (knobs over Linux today), the quantity and the published value with its tolerance.
``figures()`` collects the figures of every family's module (``FIGURE_MODULES``);
``tests/objectives/test_calibration.py`` checks each one and ``policysearch calibration``
prints them with the model's value, so the card cannot drift from the tests.

``objectives.calibration_figure`` says how each quantity is computed.
"""

from __future__ import annotations

import importlib

from objectives.calibration_figure import HOWS, Figure

FIGURE_MODULES = (
    "objectives.figures_stacks",
    "objectives.figures_percpu",
    "objectives.figures_pid",
    "objectives.figures_tiering",
)
"""Modules holding a ``FIGURES`` list each, in the order the card lists them."""


def figures() -> list[Figure]:
    """Every figure of every module in ``FIGURE_MODULES``, in order.

    Raises:
        ValueError: a figure is malformed (unknown ``how``, duplicate name).
    """
    out: list[Figure] = []
    for module in FIGURE_MODULES:
        out.extend(importlib.import_module(module).FIGURES)
    names = [f.name for f in out]
    for figure in out:
        if figure.how not in HOWS:
            raise ValueError(f"figure {figure.name}: how {figure.how!r} is not one of {HOWS}")
        if names.count(figure.name) > 1:
            raise ValueError(f"figure {figure.name} is listed twice")
    return out
