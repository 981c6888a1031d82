"""Every published figure of the model card (``objectives.calibration``) holds.

Each figure names its source (seed, commit, paper, LKML message); ``policysearch calibration``
prints the same list with the model's values, so the card and these tests cannot drift.
"""

from __future__ import annotations

import pytest

from objectives.calibration import figures
from objectives.calibration.figure import Figure

FIGURES = figures()


@pytest.mark.parametrize("figure", FIGURES, ids=[f.name for f in FIGURES])
def test_published_figure_holds(figure: Figure) -> None:
    value, ok = figure.check()
    low, high = figure.bounds()
    assert ok, f"{figure.name} ({figure.source}): model {value:g}, expected in [{low:g}, {high:g}]"


def test_every_figure_names_a_source_a_family_and_a_known_metric() -> None:
    from objectives import metric_catalogue

    catalogue = metric_catalogue()
    for figure in FIGURES:
        assert figure.source and figure.family, figure.name
        assert figure.metric in catalogue, figure.name


def test_a_figure_outside_its_bounds_fails() -> None:
    figure = FIGURES[0]
    wrong = Figure(**{**figure.__dict__, "published": figure.published * 2, "tolerance": 0.01})
    assert not wrong.check()[1]
