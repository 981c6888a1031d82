"""Text that several commands print: the front's hypervolume line, values as people read them,
and the terminal width tables fit in."""

from __future__ import annotations

import shutil

from policysearch.analysis.view import StudyView
from policysearch.quantities import box_share, quantity


def terminal_width() -> int:
    """The terminal's width (``COLUMNS`` when set, 80 when not a terminal), at least 40."""
    return max(40, shutil.get_terminal_size((80, 24)).columns)


def hypervolume_line(view: StudyView) -> str:
    """One line on the front's size and hypervolume, naming the reference point and its origin."""
    catalogue = view.info.metric_catalogue
    reference = ", ".join(
        quantity(r, getattr(catalogue.get(o.metric), "unit", ""))
        for r, o in zip(view.reference, view.info.objectives, strict=False)
    )
    return (
        f"{len(view.front)} policies on the front of {view.feasible_count} feasible "
        f"({view.complete} finished) trials; hypervolume {box_share(view.hypervolume_share)} "
        f"(from zero to the reference point [{reference}]: {view.reference_origin})"
    )


def number(value: object) -> str:
    """A knob's or scenario key's value as people read it: ``3,600,000``, ``0.001953``."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if float(value).is_integer():
        return f"{int(value):,}"
    return quantity(value, "")
