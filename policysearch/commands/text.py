"""Text that several commands print: the front's hypervolume line, values as people read them,
and the terminal width tables fit in."""

from __future__ import annotations

import shlex
import shutil
from collections.abc import Sequence

from policysearch.analysis.view import StudyView
from policysearch.quantities import box_share, quantity
from policysearch.run.storage import default_storage, pasteable


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


def storage_option(url: str) -> tuple[str, str | None]:
    """`` --storage URL`` for a hint, so that it can be pasted back, and a note on it.

    Empty when ``url`` is what the commands use by default (``POLICYSEARCH_STORAGE``, else the
    default journal). A database URL loses its password (``run.storage.pasteable``): the note
    says where the database client finds it.
    """
    if url == default_storage():
        return "", None
    shown, note = pasteable(url)
    return f" --storage {shlex.quote(shown)}", note


def plain_table(header: Sequence[str], rows: Sequence[Sequence[str]], right: int = 0) -> str:
    """Rows under a header, columns padded to their widest cell; the first ``right`` columns
    and every column whose cells all start with a digit are aligned right (numbers)."""
    widths = [max(len(h), *(len(r[c]) for r in rows)) for c, h in enumerate(header)]
    numeric = [
        c < right or all(r[c][:1].isdigit() or r[c][:1] in "-+" for r in rows)
        for c in range(len(header))
    ]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            cell.rjust(w) if n else cell.ljust(w)
            for cell, w, n in zip(cells, widths, numeric, strict=True)
        ).rstrip()

    return "\n".join([line(header), *(line(r) for r in rows)])
