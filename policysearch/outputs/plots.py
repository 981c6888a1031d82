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

Figures are built with ``matplotlib.figure.Figure`` on an Agg canvas, never through pyplot:
no GUI, no global registry of open figures, so nothing accumulates in a long-lived process.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence

import numpy as np
import optuna
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import EngFormatter
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

from policysearch.analysis.view import StudyView
from policysearch.run.study_meta import StudyInfo

FRONT_COLOUR = "#1f77b4"
DOMINATED_COLOUR = "#cfcfcf"
INFEASIBLE_COLOUR = "#8a8a8a"
BASELINE_COLOUR = "#d62728"
KNEE_COLOUR = "#ff7f0e"
LOG_DECADES = 2.0
"""An axis is logarithmic when its positive values span more than this many decades."""


def _png(fig: Figure) -> bytes:
    """The figure as PNG bytes; the figure is cleared afterwards (it holds no more data)."""
    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    try:
        fig.savefig(buf, format="png", dpi=100)
    finally:
        fig.clear()
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


def _message(title: str, text: str, size: tuple[float, float] = (7.0, 2.2)) -> bytes:
    """A small figure that says why there is nothing to plot."""
    fig = Figure(figsize=size)
    ax = fig.add_subplot()
    ax.set_axis_off()
    ax.set_title(title)
    ax.text(0.5, 0.5, text, ha="center", va="center", wrap=True, transform=ax.transAxes)
    return _png(fig)


def _label(info: StudyInfo, metric: str) -> str:
    spec = info.metric_catalogue.get(metric)
    unit = getattr(spec, "unit", "")
    return f"{metric} ({unit})" if unit else metric


def _wants_log(values: Sequence[float] | np.ndarray) -> bool:
    """True when every value is positive and they span more than ``LOG_DECADES`` decades."""
    data = np.asarray(values, dtype=float)
    data = data[np.isfinite(data)]
    if data.size < 2 or np.any(data <= 0):
        return False
    return math.log10(data.max() / data.min()) > LOG_DECADES


def _scale(
    ax: Axes, axis: str, values: Sequence[float] | np.ndarray, allow_log: bool = True
) -> None:
    """Log scale when the values span decades; else large numbers with SI prefixes.

    ``14.2G`` rather than ``1.42`` under a ``1e10`` multiplier, which would collide with the
    axis label.
    """
    target = ax.xaxis if axis == "x" else ax.yaxis
    if allow_log and _wants_log(values):
        (ax.set_xscale if axis == "x" else ax.set_yscale)("log")
        return
    data = np.abs(np.asarray(values, dtype=float))
    data = data[np.isfinite(data)]
    if data.size and data.max() >= 1e4:
        target.set_major_formatter(EngFormatter(sep=""))


def front_png(view: StudyView) -> bytes:
    """The objectives against each other, front highlighted, baseline and knee marked."""
    info = view.info
    title = f"{info.name}: Pareto front on {info.problem.name}"
    if not view.trials:
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
    return _png(fig)


def _front_panel(ax: Axes, view: StudyView, i: int, j: int, connect: bool) -> None:
    info = view.info
    x, y = view.values[:, i], view.values[:, j]
    dominated = view.feasible & ~view.on_front
    infeasible = ~view.feasible
    if dominated.any():
        ax.scatter(
            x[dominated],
            y[dominated],
            s=18,
            color=DOMINATED_COLOUR,
            label=f"feasible, dominated ({int(dominated.sum())})",
            zorder=1,
        )
    if infeasible.any():
        ax.scatter(
            x[infeasible],
            y[infeasible],
            s=22,
            marker="x",
            color=INFEASIBLE_COLOUR,
            label=f"infeasible ({int(infeasible.sum())})",
            zorder=2,
        )
    true = view.true_front if connect else None
    if true is not None:  # a known front: show how close the search got
        ax.plot(true[:, i], true[:, j], color="#2ca02c", lw=1, label="true front", zorder=2)
    if view.front:
        front = np.array([t.values for t in view.front], dtype=float)
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
    xs, ys = [x], [y]
    if view.today is not None:
        ax.scatter(
            [view.today[i]],
            [view.today[j]],
            s=220,
            marker="*",
            color=BASELINE_COLOUR,
            edgecolor="black",
            linewidth=0.6,
            label="today's Linux",
            zorder=5,
        )
        ax.annotate(
            "today's Linux",
            (view.today[i], view.today[j]),
            xytext=(8, -14),
            textcoords="offset points",
            color=BASELINE_COLOUR,
            fontsize="small",
        )
        xs.append(view.today[i : i + 1])
        ys.append(view.today[j : j + 1])
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
    _scale(ax, "x", np.concatenate(xs))
    _scale(ax, "y", np.concatenate(ys))
    ax.set_xlabel(_label(info, info.objectives[i].metric) + _better(info.objectives[i].direction))
    ax.set_ylabel(_label(info, info.objectives[j].metric) + _better(info.objectives[j].direction))
    ax.grid(True, alpha=0.3)


def _better(direction: str) -> str:
    return ", lower is better" if direction == "minimize" else ", higher is better"


def _single_objective_front(view: StudyView, title: str) -> bytes:
    info = view.info
    fig = Figure(figsize=(8.0, 5.0))
    _margins(fig, left=1.0, right=0.25, bottom=0.65, top=0.5)
    ax = fig.add_subplot()
    numbers = np.array([t.number for t in view.trials])
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
    _scale(ax, "y", y)
    ax.set_xlabel("trial")
    ax.set_ylabel(_label(info, info.objectives[0].metric) + _better(info.objectives[0].direction))
    ax.legend(fontsize="small")
    ax.grid(True, alpha=0.3)
    fig.suptitle(title + " (one objective: every trial by number)")
    return _png(fig)


def hypervolume_png(view: StudyView) -> bytes:
    """Hypervolume of the feasible front of the first k finished trials, against k."""
    title = f"{view.info.name}: hypervolume as the search went on"
    if not view.front:
        return _message(title, "no feasible finished trial yet: nothing dominates anything")
    ks, volumes = view.history
    fig = Figure(figsize=(8.0, 4.2))
    _margins(fig, left=1.0, right=0.25, bottom=0.65, top=0.75)
    ax = fig.add_subplot()
    ax.step(ks, volumes, where="post", color=FRONT_COLOUR, lw=1.6)
    ax.scatter([ks[-1]], [volumes[-1]], color=FRONT_COLOUR, zorder=3)
    ax.annotate(
        f"{volumes[-1]:.4g}",
        (ks[-1], volumes[-1]),
        xytext=(-8, -14),
        textcoords="offset points",
        ha="right",
        fontsize="small",
    )
    ax.set_xlabel("finished trials (in trial order)")
    ax.set_ylabel("hypervolume of the feasible front")
    ax.set_ylim(bottom=0)
    _scale(ax, "y", volumes, allow_log=False)  # growth from 0 reads best on a linear axis
    ax.grid(True, alpha=0.3)
    reference = ", ".join(f"{r:.4g}" for r in view.reference)
    fig.suptitle(
        f"{title}\nminimise view (maximised objectives negated), reference point [{reference}]"
        f"\n({view.reference_origin})",
        fontsize="medium",
    )
    return _png(fig)


def importances_png(view: StudyView) -> bytes:
    """One bar chart per objective: each knob's share in reaching its best trials."""
    title = f"{view.info.name}: knob importances (PED-ANOVA, all finished trials)"
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
    return _png(fig)


def knobs_png(view: StudyView) -> bytes:
    """Each searched knob (rows) against each objective (columns), one small scatter each."""
    info = view.info
    title = f"{info.name}: each knob against each objective"
    distributions: dict[str, optuna.distributions.BaseDistribution] = {}
    for trial in view.trials:
        for knob, dist in trial.distributions.items():
            distributions.setdefault(knob, dist)
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
        present = np.array([knob in t.params for t in view.trials], dtype=bool)
        raw = [t.params.get(knob) for t in view.trials]
        if isinstance(dist, CategoricalDistribution):
            labels = [str(c) for c in dist.choices]
            index = {c: n for n, c in enumerate(dist.choices)}
            x = np.array(
                [index.get(v, np.nan) if p else np.nan for v, p in zip(raw, present, strict=True)],
                dtype=float,
            )
        else:
            labels = None
            x = np.array([float(v) if p else np.nan for v, p in zip(raw, present, strict=True)])
        for c, objective in enumerate(info.objectives):
            ax = axes[r, c]
            y = view.values[:, c]
            for mask, style in (
                (dominated & present, {"s": 12, "color": DOMINATED_COLOUR}),
                (~view.feasible & present, {"s": 14, "marker": "x", "color": INFEASIBLE_COLOUR}),
                (view.on_front & present, {"s": 16, "color": FRONT_COLOUR}),
            ):
                if mask.any():
                    ax.scatter(x[mask], y[mask], **style)
            if labels is not None:
                ax.set_xticks(range(len(labels)), labels, fontsize="x-small")
                ax.set_xlim(-0.5, len(labels) - 0.5)
                if len(labels) > 4:
                    ax.tick_params(axis="x", labelrotation=45)
            elif isinstance(dist, FloatDistribution | IntDistribution) and dist.log:
                ax.set_xscale("log")
            _scale(ax, "y", y)
            ax.tick_params(axis="both", labelsize="x-small")
            ax.grid(True, alpha=0.3)
            if r == 0:
                ax.set_title(_label(info, objective.metric), fontsize="small")
            ax.set_xlabel(knob, fontsize="small")
    fig.suptitle(
        f"{title} (blue: Pareto front, grey: dominated, crosses: infeasible)", fontsize="medium"
    )
    return _png(fig)
