"""The picture of ``policysearch compare``: several studies' fronts in one figure.

One colour per study. Two objectives: one plot, each front a line through its points in order
of the first objective. More objectives: every pair in its own panel, front points only (a
projection does not keep a front's order). One objective: each study's best value on one axis.
Each axis is in the scale people read its metric's catalogue unit in (``policysearch.quantities``:
KiB, µs), named in its label with which way is better; an axis whose positive values span
more than two decades is logarithmic. ``--plot FILE.html`` wraps the PNG in a
small self-contained page.
"""

from __future__ import annotations

import math
import textwrap
from pathlib import Path

import numpy as np
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import StrMethodFormatter

from policysearch.analysis.compare import Comparison
from policysearch.outputs.plots import _png
from policysearch.outputs.report import _e, _img, _page, _write_atomically, check_plot_path
from policysearch.quantities import box_share
from policysearch.quantities import scale as _scale

LOG_DECADES = 2.0
"""An axis is logarithmic when its positive values span more than this many decades."""


def _colour(i: int) -> tuple[float, ...]:
    return colormaps["tab10"](i % 10)


def _axes_scale(comparison: Comparison, fronts: list[np.ndarray]) -> list[tuple[float, str]]:
    """Per objective, ``(divisor, unit)``: the scale people read its values in (KiB, µs)."""
    scales = []
    for i, objective in enumerate(comparison.objectives):
        spec = comparison.views[0].info.metric_catalogue.get(objective.metric)
        column = np.concatenate([front[:, i] for front in fronts])
        column = column[np.isfinite(column)]
        magnitude = float(np.abs(column).max()) if column.size else 0.0
        divisor, suffix = _scale(magnitude, getattr(spec, "unit", "") or "")
        scales.append((divisor, suffix.strip()))
    return scales


def _label(comparison: Comparison, i: int, unit: str) -> str:
    objective = comparison.objectives[i]
    better = "higher" if objective.direction == "maximize" else "lower"
    named = f"{objective.metric} ({unit})" if unit else objective.metric
    return f"{named}, {better} is better"


def _axis(ax: Axes, which: str, values: np.ndarray) -> None:
    """Logarithmic when the positive values span decades; else thousands separators."""
    data = values[np.isfinite(values)]
    if data.size > 1 and np.all(data > 0) and math.log10(data.max() / data.min()) > LOG_DECADES:
        (ax.set_xscale if which == "x" else ax.set_yscale)("log")
    elif data.size and np.abs(data).max() >= 1e4:
        (ax.xaxis if which == "x" else ax.yaxis).set_major_formatter(StrMethodFormatter("{x:,.0f}"))


def _front_values(comparison: Comparison) -> list[np.ndarray]:
    m = len(comparison.objectives)
    return [
        np.array([t.values for t in view.front], dtype=float).reshape(len(view.front), m)
        for view in comparison.views
    ]


def compare_png(comparison: Comparison) -> bytes:
    """The fronts of the compared studies, one colour per study, as PNG bytes."""
    m = len(comparison.objectives)
    scales = _axes_scale(comparison, _front_values(comparison))
    divisors = np.array([divisor for divisor, _ in scales])
    fronts = [front / divisors for front in _front_values(comparison)]
    title = "Pareto fronts compared: " + ", ".join(comparison.labels)
    if not any(front.shape[0] for front in fronts):
        fig = Figure(figsize=(7.0, 2.2))
        ax = fig.add_subplot()
        ax.set_axis_off()
        ax.set_title(_wrap(title, 7.0))
        ax.text(0.5, 0.5, "no study has a feasible front yet", ha="center", transform=ax.transAxes)
        return _png(fig)
    if m == 1:
        fig = Figure(figsize=(8.0, 1.2 + 0.45 * len(fronts)), layout="constrained")
        ax = fig.add_subplot()
        for i, front in enumerate(fronts):
            ax.scatter(front[:, 0], [i] * len(front), color=_colour(i), s=30)
        ax.set_yticks(range(len(fronts)), comparison.labels)
        ax.set_xlabel(_label(comparison, 0, scales[0][1]))
        _axis(ax, "x", np.concatenate(fronts)[:, 0])
        fig.suptitle(_wrap(title, 8.0))
        return _png(fig)
    pairs = [(i, j) for i in range(m) for j in range(i + 1, m)]
    cols = min(3, len(pairs))
    rows = math.ceil(len(pairs) / cols)
    size = (8.0, 5.6) if m == 2 else (4.6 * cols, 4.0 * rows + 0.8)
    fig = Figure(figsize=size, layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    every = np.vstack(fronts)
    for ax, (i, j) in zip(axes, pairs, strict=False):
        for k, (front, label) in enumerate(zip(fronts, comparison.labels, strict=True)):
            if not front.shape[0]:
                continue
            order = np.argsort(front[:, i], kind="stable")
            ax.plot(
                front[order, i],
                front[order, j],
                marker="o",
                ms=5,
                lw=1.4 if m == 2 else 0,
                color=_colour(k),
                label=f"{label} (front {len(front)}, hypervolume {_share(comparison, k)})",
                alpha=0.9,
            )
        ax.set_xlabel(_label(comparison, i, scales[i][1]))
        ax.set_ylabel(_label(comparison, j, scales[j][1]))
        _axis(ax, "x", every[:, i])
        _axis(ax, "y", every[:, j])
        ax.grid(True, alpha=0.3)
    for ax in axes[len(pairs) :]:
        ax.set_axis_off()
    handles, labels = axes[0].get_legend_handles_labels()
    if m == 2:
        axes[0].legend(handles, labels, loc="best", fontsize="small", framealpha=0.9)
    else:
        fig.legend(handles, labels, loc="outside lower center", ncols=2, fontsize="small")
    fig.suptitle(
        _wrap(title, size[0]) + "\n(hypervolume: share of the common reference box)",
        fontsize="medium",
    )
    return _png(fig)


TITLE_CHARS_PER_INCH = 9
"""Characters of a medium-size title that fit in an inch of figure, with a margin (DejaVu Sans
at 12 pt averages about 7 pt a character)."""


def _wrap(title: str, width_in: float) -> str:
    """``title`` broken into lines that fit a figure ``width_in`` inches wide (never cut)."""
    return "\n".join(textwrap.wrap(title, width=max(20, int(width_in * TITLE_CHARS_PER_INCH))))


def _share(comparison: Comparison, k: int) -> str:
    share = comparison.shares[k] if comparison.shares else None
    return box_share(share).removesuffix(" of the reference box")


def write_compare_plot(comparison: Comparison, out_path: str | Path) -> Path:
    """Write the comparison picture as a PNG, or as a self-contained HTML page around it.

    Raises:
        BadInput: the suffix is neither ``.png`` nor ``.html``, or the folder does not exist.
    """
    out = Path(out_path)
    check_plot_path(out)
    png = compare_png(comparison)
    if out.suffix.lower() == ".png":
        data = png
    else:
        title = "Pareto fronts compared: " + ", ".join(comparison.labels)
        data = _page(title, [f"<h1>{_e(title)}</h1>", _img(png, title, "compare-plot")]).encode(
            "utf-8"
        )
    _write_atomically(out, data, "--plot")
    return out
