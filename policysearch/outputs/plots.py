"""Pictures of a study view, as PNG bytes: the front, the search's progress, what matters.

Every function takes a ``policysearch.analysis.view.StudyView`` and draws what it holds; none
reads the study or computes an analysis (front, knee, baseline, history, importances are the
view's). Each returns a PNG:

* ``front_png``: the objectives against each other (two objectives: one plot; more: every
  pair). The feasible front is highlighted and, with two objectives, connected; dominated
  feasible trials are light grey, infeasible ones grey crosses. Today's Linux (``view.today``)
  is a star and the knee point (``view.knee``) is annotated; a known true front
  (``view.true_front``, benchmarks) is a green line. An axis is logarithmic only when its
  positive values span more than two decades.
* ``hypervolume_png``: the hypervolume of the feasible front of the first k finished trials
  against k (``view.history``), with the view's reference point, so that the curve ends at the
  hypervolume ``policysearch front`` prints.
* ``importances_png``: for each objective, the share of each knob in reaching the best trials
  (``view.importances``, Optuna's PED-ANOVA). When there is nothing to rank (too few trials,
  one distinct value, a single knob) the panel says why.
* ``knobs_png``: each searched knob against each objective; categorical knobs on a
  categorical axis.

A scatter of many trials draws one of the points that fall in the same small cell (``_thin``:
``THIN_GRID`` cells per axis, far below a pixel, every extreme kept so the axes' limits do
not move): the pictures of a 100,000-trial study look as they would with every point drawn.

Figures are built with ``matplotlib.figure.Figure`` on an Agg canvas, never through pyplot:
no GUI, no global registry of open figures, so nothing accumulates in a long-lived process.
"""

from __future__ import annotations

import io
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import Formatter, MaxNLocator, NullFormatter
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

from policysearch.analysis.view import StudyView
from policysearch.quantities import box_share, plain, quantity, scale
from policysearch.run.study_meta import StudyInfo

FRONT_COLOUR = "#1f77b4"
DOMINATED_COLOUR = "#cfcfcf"
INFEASIBLE_COLOUR = "#8a8a8a"
BASELINE_COLOUR = "#d62728"
KNEE_COLOUR = "#ff7f0e"
LOG_DECADES = 2.0
"""An axis is logarithmic when its positive values span more than this many decades."""
FOCUS_REACH = 1.0
"""Points within this many front spans of the front are drawn in place; others at the edge."""
FOCUS_PAD = 0.08
"""Margin around what the axis shows, as a share of its range."""
EDGE_INSET = 0.015
"""How far inside the edge a point beyond it is drawn, as a share of the axis range."""
THIN_GRID = 2048
"""A scatter of many points draws one point per cell of a grid this fine over its range (a
fraction of a pixel: a 100,000-trial study draws as before, in a fraction of the time)."""


def _png(fig: Figure) -> bytes:
    """The figure as PNG bytes. The figure is not cleared afterwards: the caller drops it
    (clearing rebuilds every axis's ticks, 0.2 s for the knob figure of four knobs)."""
    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    return buf.getvalue()


def _margins(
    fig: Figure, left: float, right: float, bottom: float, top: float, **gaps: float
) -> None:
    """Fixed margins in inches. A layout engine measures every text of the figure before
    drawing it, which costs about as much as the drawing; these figures' texts have known
    sizes."""
    width, height = fig.get_size_inches()
    fig.subplots_adjust(
        left=left / width,
        right=1 - right / width,
        bottom=bottom / height,
        top=1 - top / height,
        **gaps,
    )


def _message(title: str, text: str, size: tuple[float, float] = (7.0, 2.2)) -> Figure:
    """A small figure that says why there is nothing to plot."""
    fig = Figure(figsize=size)
    ax = fig.add_subplot()
    ax.set_axis_off()
    ax.set_title(title)
    ax.text(0.5, 0.5, text, ha="center", va="center", wrap=True, transform=ax.transAxes)
    return fig


def _unit(info: StudyInfo, metric: str) -> str:
    return getattr(info.metric_catalogue.get(metric), "unit", "") or ""


class UnitFormatter(Formatter):
    """Tick labels in the scale people read for ``unit`` (``policysearch.quantities``).

    On a linear axis every tick shares one scale (``divisor``, named in the axis label) and as
    few decimals as tell the ticks apart: ``2.30  2.35  2.40`` under ``(GiB)``. On a log axis
    each tick carries its own unit (``1 KiB  1 MiB  1 GiB``). Never an exponent.
    """

    def __init__(self, unit: str, divisor: float = 1.0, per_tick: bool = False) -> None:
        self.unit, self.divisor, self.per_tick = unit, divisor, per_tick

    def __call__(self, x: float, pos: int | None = None) -> str:
        if self.per_tick:
            return quantity(x, self.unit)
        return self.format_ticks([x])[0]

    def format_ticks(self, values: Sequence[float]) -> list[str]:
        if self.per_tick:
            return [quantity(v, self.unit) for v in values]
        scaled = [v / self.divisor for v in values]
        return [plain(v, _tick_decimals(scaled)) for v in scaled]


class ScaledLocator(MaxNLocator):
    """Ticks at round numbers of the scale shown (``0.70 MiB``), not of the stored unit."""

    def __init__(self, divisor: float) -> None:
        super().__init__(nbins="auto", steps=[1, 2, 2.5, 5, 10])
        self.divisor = divisor

    def tick_values(self, vmin: float, vmax: float) -> np.ndarray:
        scaled = super().tick_values(vmin / self.divisor, vmax / self.divisor)
        return np.asarray(scaled) * self.divisor


def _tick_decimals(values: Sequence[float]) -> int:
    """The fewest decimals (at most 6) that write every tick exactly enough to tell them apart."""
    finite = sorted(v for v in values if math.isfinite(v))
    steps = [b - a for a, b in itertools.pairwise(finite) if b > a]
    step = min(steps) if steps else max((abs(v) for v in finite), default=1.0) or 1.0
    for decimals in range(7):
        if all(abs(round(v, decimals) - v) <= 1e-6 * step for v in finite):
            return decimals
    return 6


def _axis_unit(unit: str, magnitude: float) -> tuple[float, str]:
    """``(divisor, name)`` for an axis whose largest magnitude is ``magnitude``."""
    if not unit and magnitude < 1e4:
        return 1.0, ""
    if not unit:
        for name, size in (("billions", 1e9), ("millions", 1e6), ("thousands", 1e3)):
            if magnitude >= size:
                return size, name
    return scale(magnitude, unit)


def _format_axis(
    ax: Axes, axis: str, unit: str, magnitude: float, name: str | None, log: bool = False
) -> str:
    """Tick labels by ``unit``; the axis label ``name (scale)`` when ``name`` is given.

    Returns:
        the scale the ticks are in (``GiB``), or ``""``.
    """
    target = ax.xaxis if axis == "x" else ax.yaxis
    if log:
        target.set_major_formatter(UnitFormatter(unit, per_tick=True))
        target.set_minor_formatter(NullFormatter())
        shown = unit
    else:
        divisor, shown = _axis_unit(unit, magnitude)
        target.set_major_formatter(UnitFormatter(unit, divisor))
        if divisor != 1.0:
            target.set_major_locator(ScaledLocator(divisor))
    if name is not None:
        target.set_label_text(f"{name} ({shown})" if shown else name)
    return shown


def _wants_log(values: Sequence[float] | np.ndarray) -> bool:
    """True when every value is positive and they span more than ``LOG_DECADES`` decades."""
    data = np.asarray(values, dtype=float)
    data = data[np.isfinite(data)]
    if data.size < 2 or np.any(data <= 0):
        return False
    return math.log10(data.max() / data.min()) > LOG_DECADES


def _scale(
    ax: Axes,
    axis: str,
    values: Sequence[float] | np.ndarray,
    allow_log: bool = True,
    unit: str = "",
    name: str | None = None,
) -> str:
    """Log scale when the values span decades; tick labels (and label) by unit either way.

    Returns:
        the scale the ticks are in (``_format_axis``).
    """
    data = np.asarray(values, dtype=float)
    data = data[np.isfinite(data)]
    log = allow_log and _wants_log(data)
    if log:
        (ax.set_xscale if axis == "x" else ax.set_yscale)("log")
    magnitude = float(np.abs(data).max()) if data.size else 0.0
    return _format_axis(ax, axis, unit, magnitude, name, log)


@dataclass(frozen=True)
class _Window:
    """The range an axis shows: the front's, widened to the points near it (``FOCUS_REACH``)."""

    low: float
    high: float
    log: bool

    def inside(self, values: np.ndarray) -> np.ndarray:
        return (values >= self.low) & (values <= self.high)

    def clip_all(self, values: np.ndarray) -> np.ndarray:
        """``clip`` of every value."""
        values = np.asarray(values, dtype=float)
        if self.log:
            lo, hi = math.log10(self.low), math.log10(self.high)
            inset = (hi - lo) * EDGE_INSET
            with np.errstate(divide="ignore", invalid="ignore"):
                return 10 ** np.clip(np.log10(values), lo + inset, hi - inset)
        inset = (self.high - self.low) * EDGE_INSET
        return np.clip(values, self.low + inset, self.high - inset)

    def clip(self, value: float) -> float:
        """A value outside, moved just inside the edge it is beyond."""
        if self.log:
            lo, hi = math.log10(self.low), math.log10(self.high)
            inset = (hi - lo) * EDGE_INSET
            return float(10 ** min(max(math.log10(value), lo + inset), hi - inset))
        inset = (self.high - self.low) * EDGE_INSET
        return min(max(value, self.low + inset), self.high - inset)


def _thin(x: np.ndarray, y: np.ndarray, log_x: bool = False, log_y: bool = False) -> np.ndarray:
    """Indices, increasing, of the points of a scatter to draw: the first point of each cell
    of a ``THIN_GRID`` x ``THIN_GRID`` grid over the points' range (log-spaced on a log axis),
    and the points at each extreme. Points that are not finite are not drawn (nor were they)."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        u = np.log10(x) if log_x else x
        v = np.log10(y) if log_y else y
    ok = np.flatnonzero(np.isfinite(u) & np.isfinite(v))
    if len(ok) <= THIN_GRID:
        return ok
    key = np.zeros(len(ok), dtype=np.int64)
    extremes = []
    for values in (u[ok], v[ok]):
        low, span = values.min(), np.ptp(values)
        cell = np.zeros(len(ok), dtype=np.int64)
        if span > 0:
            cell = np.minimum((values - low) / span * THIN_GRID, THIN_GRID).astype(np.int64)
        key = key * (THIN_GRID + 1) + cell
        extremes += [int(np.argmin(values)), int(np.argmax(values))]
    _, first = np.unique(key, return_index=True)
    return ok[np.union1d(first, extremes)]


def _window(core: np.ndarray, others: np.ndarray) -> _Window:
    """The axis range: ``core`` (the front) padded, plus every other value within
    ``FOCUS_REACH`` of the core's span of it; the rest lies beyond an edge."""
    core = core[np.isfinite(core)]
    others = others[np.isfinite(others)]
    if core.size == 0:
        core = others
    if core.size == 0:
        return _Window(0.0, 1.0, False)
    log = _wants_log(core)
    to = np.log10 if log else (lambda v: v)
    c = to(core)
    lo, hi = float(c.min()), float(c.max())
    span = hi - lo
    if span == 0:
        span = max(abs(hi) * 0.05, 1e-12) if not log else 0.1
    if others.size and (not log or np.all(others > 0)):
        o = to(others)
        near = o[(o >= lo - FOCUS_REACH * span) & (o <= hi + FOCUS_REACH * span)]
        if near.size:
            lo, hi = min(lo, float(near.min())), max(hi, float(near.max()))
    pad = (hi - lo) * FOCUS_PAD or span * FOCUS_PAD
    lo, hi = lo - pad, hi + pad
    if log:
        return _Window(10**lo, 10**hi, True)
    return _Window(lo, hi, False)


def front_figure(view: StudyView) -> Figure:
    """The objectives against each other, front highlighted, baseline and knee marked."""
    info = view.info
    title = f"{info.name}: Pareto front on {info.problem.name}"
    if not view.complete:
        return _message(title, "no finished trials yet")
    m = len(info.objectives)
    if m == 1:
        return _single_objective_front(view, title)
    pairs = [(i, j) for i in range(m) for j in range(i + 1, m)]
    cols = min(3, len(pairs))
    rows = math.ceil(len(pairs) / cols)
    if m == 2:
        fig = Figure(figsize=(8.0, 5.6))
        _margins(fig, left=1.0, right=0.25, bottom=0.65, top=0.5)
    else:
        fig = Figure(figsize=(4.6 * cols, 4.0 * rows + 0.8), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    for ax, (i, j) in zip(axes, pairs, strict=False):
        _front_panel(ax, view, i, j, connect=m == 2)
    for ax in axes[len(pairs) :]:
        ax.set_axis_off()
    handles, labels = axes[0].get_legend_handles_labels()
    if m == 2:
        axes[0].legend(handles, labels, loc="best", fontsize="small", framealpha=0.9)
        fig.suptitle(title)
    else:
        fig.legend(handles, labels, loc="outside lower center", ncols=3, fontsize="small")
        fig.suptitle(
            f"{title}\nthe front of all {m} objectives, shown pair by pair: a front point can "
            "look dominated in a projection",
            fontsize="medium",
        )
    return fig


def _front_panel(ax: Axes, view: StudyView, i: int, j: int, connect: bool) -> None:
    """One pair of objectives. The axes show the front and the trials near it; today's Linux
    and trials far beyond are drawn at the edge they lie beyond (today's Linux with an arrow
    and its values), so that a front with a 2% spread is not squeezed into a line."""
    info = view.info
    x, y = view.values[:, i], view.values[:, j]
    units = _unit(info, info.objectives[i].metric), _unit(info, info.objectives[j].metric)
    dominated = view.feasible & ~view.on_front
    infeasible = ~view.feasible
    front = np.array([t.values for t in view.front], dtype=float).reshape(-1, view.values.shape[1])
    core_x = front[:, i] if len(front) else x[view.feasible] if view.feasible.any() else x
    core_y = front[:, j] if len(front) else y[view.feasible] if view.feasible.any() else y
    bars_x, bars_y = _spread_bounds(view, i), _spread_bounds(view, j)
    if bars_x is not None and bars_y is not None:  # the window holds every point's spread
        core_x = np.concatenate([core_x, bars_x.ravel()])
        core_y = np.concatenate([core_y, bars_y.ravel()])
    wx, wy = _window(core_x, x), _window(core_y, y)
    inside = wx.inside(x) & wy.inside(y)
    for mask, style, label in (
        (
            dominated,
            {"s": 18, "color": DOMINATED_COLOUR, "zorder": 1},
            f"feasible, dominated ({int(dominated.sum())})",
        ),
        (
            infeasible,
            {"s": 22, "marker": "x", "color": INFEASIBLE_COLOUR, "zorder": 2},
            f"infeasible ({int(infeasible.sum())})",
        ),
    ):
        if not mask.any():
            continue
        near, far = mask & inside, mask & ~inside
        if near.any():
            keep = _thin(x[near], y[near], wx.log, wy.log)
            ax.scatter(x[near][keep], y[near][keep], label=label, **style)
        if far.any():
            fx, fy = wx.clip_all(x[far]), wy.clip_all(y[far])
            keep = _thin(fx, fy, wx.log, wy.log)
            ax.scatter(
                fx[keep],
                fy[keep],
                s=style["s"],
                marker=_edge_marker(x[far][0], y[far][0], wx, wy),
                color=style["color"],
                zorder=style["zorder"],
                clip_on=False,
                label=None if near.any() else label,
            )
    beyond = int((~inside).sum())
    if beyond:
        ax.text(
            0.99,
            0.01,
            f"{beyond} trial{'s' if beyond > 1 else ''} beyond the axes, drawn at the edge",
            transform=ax.transAxes,
            ha="right",
            va="bottom",
            fontsize="x-small",
            color=INFEASIBLE_COLOUR,
        )
    true = view.true_front if connect else None
    if true is not None:  # a known front: show how close the search got
        ax.plot(true[:, i], true[:, j], color="#2ca02c", lw=1, label="true front", zorder=2)
    if len(front):
        order = np.argsort(front[:, i], kind="stable")
        ax.plot(
            front[order, i],
            front[order, j],
            marker="o",
            ms=6,
            lw=1.4 if connect else 0,
            color=FRONT_COLOUR,
            label=f"Pareto front ({len(view.front)})",
            zorder=3,
        )
    if bars_x is not None and bars_y is not None and len(front):
        ax.errorbar(
            front[:, i],
            front[:, j],
            xerr=_below_above(front[:, i], bars_x),
            yerr=_below_above(front[:, j], bars_y),
            fmt="none",
            ecolor=FRONT_COLOUR,
            alpha=0.45,
            elinewidth=1,
            capsize=2,
            label="spread over the draws (5th-95th percentile)",
            zorder=2.5,
        )
    if view.today is not None:
        _today(ax, float(view.today[i]), float(view.today[j]), wx, wy, units)
    if view.knee is not None:
        kx, ky = view.knee.values[i], view.knee.values[j]
        ax.scatter(
            [kx],
            [ky],
            s=160,
            facecolor="none",
            edgecolor=KNEE_COLOUR,
            linewidth=2,
            label=f"knee (trial {view.knee.number})",
            zorder=4,
        )
        ax.annotate(
            f"knee: trial {view.knee.number}",
            (kx, ky),
            xytext=(24, 24),
            textcoords="offset points",
            color=KNEE_COLOUR,
            fontsize="small",
            arrowprops={"arrowstyle": "->", "color": KNEE_COLOUR},
        )
    for axis, window in (("x", wx), ("y", wy)):
        if window.log:
            (ax.set_xscale if axis == "x" else ax.set_yscale)("log")
        (ax.set_xlim if axis == "x" else ax.set_ylim)(window.low, window.high)
    for axis, k, window in (("x", i, wx), ("y", j, wy)):
        objective = info.objectives[k]
        magnitude = max(abs(window.low), abs(window.high))
        _format_axis(
            ax, axis, units[0 if axis == "x" else 1], magnitude, objective.metric, window.log
        )
        target = ax.xaxis if axis == "x" else ax.yaxis
        target.set_label_text(target.get_label_text() + _better(objective.direction))
    ax.grid(True, alpha=0.3)


def _spread_bounds(view: StudyView, k: int) -> np.ndarray | None:
    """``(low, high)`` of objective ``k`` over the uncertainty plan's draws for each front
    point (front x 2), or ``None`` when a front point stored no spread (no plan)."""
    metric = view.info.objectives[k].metric
    bounds = []
    for trial in view.front:
        found = view.spreads.get(trial.number, {}).get(metric)
        if found is None:
            return None
        bounds.append((found[0], found[2]))
    return np.array(bounds, dtype=float).reshape(-1, 2) if bounds else None


def _below_above(values: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    """Error-bar lengths (2 x points) from each value down to its low and up to its high; a
    value outside its spread (a hard limit's worst draw) gets no bar on that side."""
    return np.clip(np.stack([values - bounds[:, 0], bounds[:, 1] - values]), 0.0, None)


def _edge_marker(x: float, y: float, wx: _Window, wy: _Window) -> str:
    """A triangle pointing to the edge a point lies beyond."""
    if x > wx.high:
        return ">"
    if x < wx.low:
        return "<"
    return "^" if y > wy.high else "v"


def _today(ax: Axes, x: float, y: float, wx: _Window, wy: _Window, units: tuple[str, str]) -> None:
    """Today's Linux: a star in place, or at the edge with an arrow and its values."""
    style = {
        "s": 220,
        "marker": "*",
        "color": BASELINE_COLOUR,
        "edgecolor": "black",
        "linewidth": 0.6,
        "label": "today's Linux",
        "zorder": 5,
        "clip_on": False,
    }
    if wx.inside(np.array([x]))[0] and wy.inside(np.array([y]))[0]:
        ax.scatter([x], [y], **style)
        ax.annotate(
            "today's Linux",
            (x, y),
            xytext=(8, -14),
            textcoords="offset points",
            color=BASELINE_COLOUR,
            fontsize="small",
        )
        return
    cx, cy = wx.clip(x), wy.clip(y)
    ax.scatter([cx], [cy], **style)
    # the arrow points from inside the axes to where today's Linux lies, beyond the edge
    dx = 1 if x > wx.high else -1 if x < wx.low else 0
    dy = 1 if y > wy.high else -1 if y < wy.low else 0
    text = f"today's Linux: {quantity(x, units[0])}, {quantity(y, units[1])}"
    ax.annotate(
        text,
        (cx, cy),
        xytext=(-dx * 70 - (0 if dx else 10), -dy * 40 - (0 if dy else 18)),
        textcoords="offset points",
        ha="right" if dx > 0 else "left" if dx < 0 else "center",
        va="top" if dy > 0 else "bottom" if dy < 0 else "center",
        color=BASELINE_COLOUR,
        fontsize="small",
        arrowprops={"arrowstyle": "->", "color": BASELINE_COLOUR, "lw": 1.2},
        annotation_clip=False,
        zorder=6,
    )


def _knob_unit(info: StudyInfo, knob: str) -> str:
    """A knob's unit for its axis: bytes-like units scale, others only get separators."""
    spec = info.problem.knobs().get(knob)
    unit = spec.meta.get("unit", "") if spec is not None else ""
    return unit if unit in ("KiB", "MiB", "GiB", "bytes", "ms", "us", "ns", "s") else ""


def _better(direction: str) -> str:
    return ", lower is better" if direction == "minimize" else ", higher is better"


def _single_objective_front(view: StudyView, title: str) -> Figure:
    info = view.info
    fig = Figure(figsize=(8.0, 5.0))
    _margins(fig, left=1.0, right=0.25, bottom=0.65, top=0.5)
    ax = fig.add_subplot()
    numbers = view.numbers
    y = view.values[:, 0]
    ax.scatter(
        numbers[view.feasible], y[view.feasible], s=18, color=DOMINATED_COLOUR, label="feasible"
    )
    ax.scatter(
        numbers[~view.feasible],
        y[~view.feasible],
        s=22,
        marker="x",
        color=INFEASIBLE_COLOUR,
        label="infeasible",
    )
    if view.knee is not None:
        ax.scatter(
            [view.knee.number],
            [view.knee.values[0]],
            s=80,
            color=FRONT_COLOUR,
            label=f"best (trial {view.knee.number})",
        )
    if view.today is not None:
        ax.axhline(view.today[0], color=BASELINE_COLOUR, ls="--", label="today's Linux")
    metric = info.objectives[0].metric
    _scale(ax, "y", y, unit=_unit(info, metric), name=metric)
    ax.set_xlabel("trial")
    ax.set_ylabel(ax.get_ylabel() + _better(info.objectives[0].direction))
    ax.legend(fontsize="small")
    ax.grid(True, alpha=0.3)
    fig.suptitle(title + " (one objective: every trial by number)")
    return fig


def hypervolume_figure(view: StudyView) -> Figure:
    """Hypervolume of the feasible front of the first k finished trials, against k."""
    title = f"{view.info.name}: hypervolume as the search went on"
    if not view.front:
        return _message(title, "no feasible finished trial yet: nothing dominates anything")
    ks, volumes = view.history
    share = view.hypervolume_share
    if share is not None and view.hypervolume > 0:
        # the share of the reference box a person reads, not a product of units
        volumes = volumes * (share / view.hypervolume)
        unit, name, last = "fraction", "hypervolume (share of the reference box)", volumes[-1]
        label = box_share(last)
    else:
        unit, name, last = "", "hypervolume of the feasible front", volumes[-1]
        label = quantity(last, "")
    fig = Figure(figsize=(8.0, 4.2))
    _margins(fig, left=1.0, right=0.25, bottom=0.65, top=0.75)
    ax = fig.add_subplot()
    ax.step(ks, volumes, where="post", color=FRONT_COLOUR, lw=1.6)
    ax.scatter([ks[-1]], [last], color=FRONT_COLOUR, zorder=3)
    ax.annotate(
        label,
        (ks[-1], last),
        xytext=(-8, -14),
        textcoords="offset points",
        ha="right",
        fontsize="small",
    )
    ax.set_xlabel("finished trials (in trial order)")
    ax.set_ylim(bottom=0)
    # growth from 0 reads best on a linear axis
    _scale(ax, "y", volumes, allow_log=False, unit=unit, name=name)
    ax.grid(True, alpha=0.3)
    reference = ", ".join(
        quantity(r, _unit(view.info, o.metric))
        for r, o in zip(view.reference, view.info.objectives, strict=False)
    )
    fig.suptitle(
        f"{title}\nthe box from zero to the reference point [{reference}]"
        f"\n({view.reference_origin})",
        fontsize="medium",
    )
    return fig


def importances_figure(view: StudyView) -> Figure:
    """One bar chart per objective: each knob's share in reaching its best trials."""
    title = f"{view.info.name}: knob importances (PED-ANOVA, {importance_basis(view)})"
    ranked = view.importances
    knobs = max((len(v) for _, v in ranked if isinstance(v, dict)), default=1)
    cols = len(ranked)
    fig = Figure(figsize=(max(7.0, 4.4 * cols), 1.4 + 0.38 * max(knobs, 3)), layout="constrained")
    axes = fig.subplots(1, cols, squeeze=False).ravel()
    for ax, (metric, shares) in zip(axes, ranked, strict=True):
        ax.set_title(metric, fontsize="medium")
        if isinstance(shares, str):
            ax.set_axis_off()
            ax.text(0.5, 0.5, shares, ha="center", va="center", wrap=True, transform=ax.transAxes)
            continue
        order = sorted(shares, key=shares.get)
        ax.barh(order, [shares[k] for k in order], color=FRONT_COLOUR)
        ax.set_xlim(0, 1)
        ax.set_xlabel("share of importance")
        ax.tick_params(axis="y", labelsize="small")
        ax.grid(True, axis="x", alpha=0.3)
    fig.suptitle(title, fontsize="medium")
    return fig


def importance_basis(view: StudyView) -> str:
    """What the importances were computed on, in words: every finished trial or the sample."""
    rows = len(view.importance_rows)
    if not view.importance_sampled:
        return "all finished trials"
    return f"a random sample of {rows:,} of the {view.complete:,} finished trials"


def knobs_figure(view: StudyView) -> Figure:
    """Each searched knob (rows) against each objective (columns), one small scatter each."""
    info = view.info
    title = f"{info.name}: each knob against each objective"
    columns = view.knobs
    distributions = columns.distributions
    knobs = sorted(distributions)
    if not knobs:
        return _message(title, "no finished trial with a searched knob yet")
    m = len(info.objectives)
    fig = Figure(figsize=(3.4 * m + 0.7, 2.3 * len(knobs) + 0.9))
    # With many knobs, constrained layout would cost more than drawing the figure.
    _margins(fig, left=0.75, right=0.15, bottom=0.65, top=0.75, wspace=0.3, hspace=0.6)
    axes = fig.subplots(len(knobs), m, squeeze=False)
    dominated = view.feasible & ~view.on_front
    for r, knob in enumerate(knobs):
        dist = distributions[knob]
        # internal values: a categorical knob's choice index, a number's own value
        x = columns.internal[knob]
        present = ~np.isnan(x)
        labels = (
            [str(c) for c in dist.choices] if isinstance(dist, CategoricalDistribution) else None
        )
        x_log = isinstance(dist, FloatDistribution | IntDistribution) and dist.log
        for c, objective in enumerate(info.objectives):
            ax = axes[r, c]
            y = view.values[:, c]
            y_log = _wants_log(y)
            for mask, style in (
                (dominated & present, {"s": 12, "color": DOMINATED_COLOUR}),
                (~view.feasible & present, {"s": 14, "marker": "x", "color": INFEASIBLE_COLOUR}),
                (view.on_front & present, {"s": 16, "color": FRONT_COLOUR}),
            ):
                if mask.any():
                    keep = _thin(x[mask], y[mask], x_log, y_log)
                    ax.scatter(x[mask][keep], y[mask][keep], **style)
            if labels is not None:
                ax.set_xticks(range(len(labels)), labels, fontsize="x-small")
                ax.set_xlim(-0.5, len(labels) - 0.5)
                if len(labels) > 4:
                    ax.tick_params(axis="x", labelrotation=45)
            elif isinstance(dist, FloatDistribution | IntDistribution) and dist.log:
                ax.set_xscale("log")
            shown = _scale(ax, "y", y, unit=_unit(info, objective.metric))
            knob_name = knob
            if labels is None:
                log = ax.get_xscale() == "log"
                knob_unit = _knob_unit(info, knob)
                finite = np.abs(x[np.isfinite(x)])
                magnitude = float(finite.max()) if finite.size else 0.0
                knob_shown = _format_axis(ax, "x", knob_unit, magnitude, None, log)
                knob_name = f"{knob} ({knob_shown})" if knob_shown else knob
            ax.tick_params(axis="both", labelsize="x-small")
            ax.grid(True, alpha=0.3)
            if r == 0:
                title = f"{objective.metric} ({shown})" if shown else objective.metric
                ax.set_title(title, fontsize="small")
            ax.set_xlabel(knob_name, fontsize="small")
    fig.suptitle(
        f"{title} (blue: Pareto front, grey: dominated, crosses: infeasible)", fontsize="medium"
    )
    return fig


def front_png(view: StudyView) -> bytes:
    """``front_figure`` as PNG bytes."""
    return _png(front_figure(view))


def hypervolume_png(view: StudyView) -> bytes:
    """``hypervolume_figure`` as PNG bytes."""
    return _png(hypervolume_figure(view))


def importances_png(view: StudyView) -> bytes:
    """``importances_figure`` as PNG bytes."""
    return _png(importances_figure(view))


def knobs_png(view: StudyView) -> bytes:
    """``knobs_figure`` as PNG bytes."""
    return _png(knobs_figure(view))
