"""One self-contained HTML page about a study: ``policysearch report STUDY --out FILE.html``.

The page works offline and from a mail attachment: inline CSS, every picture a base64
``data:`` URI, no script, no external font, link or CDN. It shows the job (scenario,
objectives, constraints with the automatic hard limits, the searched knobs), the trial counts,
the hypervolume and its reference point, the pictures of ``policysearch.outputs.plots``, the report
card of the knee policy against today's Linux, and the table of the front. A study run under an
uncertainty plan also gets its plan and, per front point, its robustness and each objective's
spread over the draws (low / median / high). ``front --plot``'s
picture file is written here too.

Everything the page shows of the trials comes from one ``policysearch.analysis.view.StudyView``
(one read of the trials, one front); this module lays it out. Every text that comes from the
study (names, descriptions, knob values) is escaped.
"""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import optuna

from policysearch import __version__
from policysearch.analysis.front import number, select_trial
from policysearch.analysis.front_rows import KNEE, TODAY, front_rows
from policysearch.analysis.report_card import render_cards, report_card
from policysearch.analysis.view import IMPORTANCE_SEED, StudyView, study_view
from policysearch.errors import BadInput
from policysearch.outputs import destination, plots
from policysearch.outputs.drawing import HELPER_PICTURES, HERE_PICTURES, Drawer
from policysearch.outputs.front_table import INERT_NOTE, table_cells
from policysearch.quantities import box_share, column, quantity
from policysearch.run.study_meta import StudyInfo, describe_plan

PLOT_SUFFIXES = (".png", ".html")

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 2em auto;
  max-width: 1200px; padding: 0 1em; color: #222; background: #fff; line-height: 1.4; }
h1 { border-bottom: 2px solid #1f77b4; padding-bottom: .2em; }
h2 { margin-top: 1.8em; color: #1f4e79; }
table { border-collapse: collapse; margin: .6em 0; font-size: 0.92em; }
th, td { border: 1px solid #ccc; padding: .25em .6em; text-align: left; vertical-align: top; }
th { background: #eef3f8; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.knee td { background: #fff1e0; font-weight: 600; }
img { max-width: 100%; height: auto; border: 1px solid #ddd; margin: .5em 0; }
pre { background: #f6f8fa; border: 1px solid #ddd; padding: .8em; overflow-x: auto; }
.note { color: #555; font-size: 0.92em; }
.counts span { display: inline-block; margin-right: 1.5em; font-size: 1.1em; }
"""


def write_report(
    study: optuna.Study | None,
    info: StudyInfo,
    storage_url: str,
    out_path: str | Path,
    selections: Sequence[str] = ("knee",),
    view: StudyView | None = None,
    drawer: Drawer | None = None,
) -> Path:
    """Write the HTML report of ``study`` to ``out_path`` atomically; return the path.

    Args:
        study: the loaded study.
        info: its stored job facts.
        storage_url: where it is stored (shown on the page).
        out_path: the HTML file to write.
        selections: the ``--select`` rules of the policies that get a report card.
        view: the study's view, if the caller has it (else it is built here).
        drawer: the drawing helper, if the caller started one (``report_html``).

    Raises:
        BadInput: the folder of ``out_path`` does not exist, or a selection rule is invalid.
    """
    out = Path(out_path)
    page = report_html(study, info, storage_url, selections, view, drawer)
    _write_atomically(out, page.encode("utf-8"))
    return out


def write_front_plot(view: StudyView, out_path: str | Path) -> Path:
    """Write the front picture as a PNG, or as a small self-contained HTML page around it.

    Raises:
        BadInput: the suffix is neither ``.png`` nor ``.html``, or the folder does not exist.
    """
    out = Path(out_path)
    check_plot_path(out)
    info = view.info
    png = plots.front_png(view)
    if out.suffix.lower() == ".png":
        data = png
    else:
        title = f"Pareto front of {info.name}"
        data = _page(title, [f"<h1>{_e(title)}</h1>", _img(png, title, "front-plot")]).encode(
            "utf-8"
        )
    _write_atomically(out, data, "--plot")
    return out


def check_plot_path(path: Path) -> destination.Destination:
    """Refuse a ``--plot`` file not ending in ``.png`` or ``.html``, or that cannot take a file
    (``outputs.destination.check``); where it goes.

    Raises:
        BadInput: naming ``--plot``, what was found and what is expected.
    """
    if path.suffix.lower() not in PLOT_SUFFIXES:
        raise BadInput(
            "--plot",
            "",
            f"found {str(path)!r}, expected a file name ending in .png or .html",
        )
    return destination.check(path, "--plot")


def report_html(
    study: optuna.Study | None,
    info: StudyInfo,
    storage_url: str,
    selections: Sequence[str] = ("knee",),
    view: StudyView | None = None,
    drawer: Drawer | None = None,
) -> str:
    """The report page as a string (``view``: the study's view, built here if not given;
    ``drawer``: a drawing helper started before the view was read, else one is started here)."""
    if view is None:
        view = study_view(study, info)
    # The cards come first: a bad --select rule is refused before any picture is drawn.
    cards = [_card_section(study, view, rule) for rule in selections]
    # two pictures here, two by the drawing helper at the same time (outputs.drawing); the
    # importances (the picture and the table) are computed here, once
    with drawer or Drawer() as drawing:
        pictures = drawing.draw(view, here=HERE_PICTURES, there=HELPER_PICTURES)
    title = f"policysearch report: {info.name}"
    parts = [
        f"<h1>{_e(title)}</h1>",
        f'<p class="note">study {_e(info.name)} in {_e(storage_url)}; '
        f"policysearch {_e(__version__)}</p>",
        _job_section(info),
        _trials_section(view),
        "<h2>Pareto front</h2>",
        _img(pictures["front"], f"Pareto front of {info.name}", "front-plot"),
        '<p class="note">Blue: the feasible Pareto front; light grey: feasible but dominated; '
        "grey crosses: infeasible; the star: today's Linux (the baseline policy simulated on "
        "the same scenario and seed); the ring: the knee point."
        + (
            " Bars: each front point's spread over the uncertainty plan's draws (5th to 95th "
            "percentile)."
            if view.spreads
            else ""
        )
        + "</p>",
        _uncertainty_section(view),
        "<h2>Hypervolume as the search went on</h2>",
        _img(pictures["hypervolume"], "hypervolume history", "hypervolume-plot"),
        "<h2>Knob importances</h2>",
        _img(pictures["importances"], "knob importances", "importance-plot"),
        _importance_table(view),
        "<h2>Each knob against each objective</h2>",
        _img(pictures["knobs"], "knobs against objectives", "knobs-plot"),
        *cards,
        _breakdown_section(study, view),
        _front_section(view),
    ]
    return _page(title, parts)


def _slug(text: str) -> str:
    """An HTML id fragment from a selection rule."""
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-")


def _page(title: str, parts: Iterable[str]) -> str:
    body = "\n".join(parts)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_e(title)}</title>\n<style>{_CSS}</style>\n</head>\n"
        f"<body>\n{body}\n</body>\n</html>\n"
    )


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _img(png: bytes, alt: str, ident: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return f'<img id="{_e(ident)}" alt="{_e(alt)}" src="data:image/png;base64,{data}">'


def _table(
    header: Sequence[str] | None,
    rows: Iterable[Sequence[Any]],
    numeric: bool = False,
    marked: int | None = None,
) -> str:
    """An HTML table (no header row when ``header`` is None); ``numeric`` right-aligns
    numbers; row number ``marked`` is highlighted."""
    head = "".join(f"<th>{_e(h)}</th>" for h in header or ())
    body = []
    for n, row in enumerate(rows):
        cells = []
        for value in row:
            looks = isinstance(value, int | float) and not isinstance(value, bool)
            looks = looks or (isinstance(value, str) and re.match(r"[-+]?[0-9]", value) is not None)
            cls = ' class="num"' if numeric and looks else ""
            cells.append(f"<td{cls}>{_e(_fmt(value))}</td>")
        opening = '<tr class="knee">' if n == marked else "<tr>"
        body.append(opening + "".join(cells) + "</tr>")
    thead = f"<thead><tr>{head}</tr></thead>" if head else ""
    return f"<table>{thead}<tbody>{''.join(body)}</tbody></table>"


def _fmt(value: Any) -> str:
    return number(value) if isinstance(value, float) else str(value)


def _job_section(info: StudyInfo) -> str:
    about: list[tuple[str, Any]] = list(info.problem.describe().items())
    if info.job_file:
        about.append(("job file", info.job_file))
    about += [
        ("sampler", f"{info.sampler} (seed {info.sampler_seed})"),
        ("simulation seed", info.sim_seed),
    ]
    catalogue = info.metric_catalogue
    objectives = [
        (o.metric, getattr(catalogue.get(o.metric), "unit", ""), o.direction)
        for o in info.objectives
    ]
    written = " ".join(str(c) for c in info.job.get("constraints") or [])
    constraints = [
        (
            str(c),
            "automatic: a hard limit every search applies"
            if c.metric in info.problem.hard_limits() and c.metric not in written
            else "from the job",
        )
        for c in info.constraints
    ]
    parts = [
        "<h2>The job</h2>",
        _table(None, about),
        "<h3>Objectives</h3>",
        _table(("metric", "unit", "direction"), objectives),
        "<h3>Constraints</h3>",
        _table(("constraint", "origin"), constraints) if constraints else "<p>none</p>",
        '<p class="note">A trial is feasible when it meets every constraint.</p>',
        "<h3>Searched knobs</h3>",
        _table(("knob", "searched over", "meaning"), _knob_rows(info)),
    ]
    if info.fixed:
        parts += [
            "<h3>Fixed knobs</h3>",
            _table(("knob", "value"), sorted(info.fixed.items())),
        ]
    return "\n".join(parts)


def _knob_rows(info: StudyInfo) -> list[tuple[str, str, str]]:
    known = info.problem.knobs()
    rows = []
    for dim in info.dimensions:
        meta = known[dim.knob].meta if dim.knob in known else {}
        if dim.choices is not None:
            text = "one of " + ", ".join(map(str, dim.choices))
        else:
            text = f"{number(dim.low)} to {number(dim.high)}"
            if dim.log:
                text += ", log scale"
            if dim.step:
                text += f", step {number(dim.step)}"
            if meta.get("unit"):
                text += f" {meta['unit']}"
        rows.append((dim.knob, text, meta.get("help", "")))
    return rows


def _trials_section(view: StudyView) -> str:
    failed, other = view.failed, view.unfinished
    counts = [
        ("finished (complete)", view.complete),
        ("feasible", view.feasible_count),
        ("failed", failed),
        ("on the front", len(view.front)),
    ]
    if other:
        counts.append(("running or pruned", other))
    spans = "".join(f"<span>{_e(name)}: <b>{_e(n)}</b></span>" for name, n in counts)
    if view.front:
        catalogue = view.info.metric_catalogue
        reference = ", ".join(
            quantity(r, getattr(catalogue.get(o.metric), "unit", ""))
            for r, o in zip(view.reference, view.info.objectives, strict=False)
        )
        volume = (
            f"<p>Hypervolume of the front: <b>{_e(box_share(view.hypervolume_share))}</b> "
            f"(the box from zero to the reference point [{_e(reference)}]: "
            f"{_e(view.reference_origin)}, as <code>policysearch front</code> reports it; "
            "maximised objectives negated).</p>"
        )
    else:
        volume = "<p>No feasible finished trial yet, so no front and no hypervolume.</p>"
    return f'<h2>Trials</h2>\n<p class="counts">{spans}</p>\n{volume}'


def _importance_table(view: StudyView) -> str:
    ranked = view.importances
    knobs = sorted({k for _, v in ranked if isinstance(v, dict) for k in v})
    if not knobs:
        reasons = "; ".join(f"{m}: {v}" for m, v in ranked if isinstance(v, str))
        return f'<p class="note">Nothing to rank: {_e(reasons)}.</p>'
    rows = [
        (knob, *(f"{v.get(knob, 0.0):.1%}" if isinstance(v, dict) else "-" for _, v in ranked))
        for knob in knobs
    ]
    return (
        _table(("knob", *(m for m, _ in ranked)), rows)
        + '<p class="note">Share of each knob in reaching the best trials of each objective '
        f"(Optuna's PED-ANOVA over {_e(_importance_words(view))}, feasible or not).</p>"
    )


def _importance_words(view: StudyView) -> str:
    """The importances' basis in the report's words (``view.importance_rows``)."""
    if not view.importance_sampled:
        return "every finished trial"
    return (
        f"a random sample of {len(view.importance_rows):,} of the {view.complete:,} finished "
        f"trials (seed {IMPORTANCE_SEED}; PED-ANOVA's cost grows with the trials)"
    )


def _card_section(study: optuna.Study | None, view: StudyView, rule: str = "knee") -> str:
    info = view.info
    ident = "report-card" if rule == "knee" else f"report-card-{_slug(rule)}"
    head = f'<section id="{ident}">\n<h2>Report card of the policy {_e(rule)}</h2>'
    if not info.problem.scenarios():
        return (
            f"{head}\n<p>{_e(info.name)} is a study of {_e(info.problem.name)}, not of a kernel "
            "scenario: it has no kernel policy, so no report card.</p>\n</section>"
        )
    try:
        knee = select_trial(study, info, rule, view)
    except BadInput:
        if rule != "knee":
            raise
        return f"{head}\n<p>No feasible finished trial yet, so no knee policy.</p>\n</section>"
    knobs = info.point(knee.params)
    policy = info.problem.policy(knobs)
    cards = report_card(policy, info.problem.scenarios())
    return "\n".join(
        [
            head,
            f"<p>Trial {knee.number}, selected by <code>{_e(rule)}</code>"
            + (
                ": after scaling each objective to [0, 1] over the front, the point furthest "
                "below the hyperplane through its extremes"
                if rule == "knee"
                else ""
            )
            + ". Simulated again against today's Linux on the same scenario and seed "
            f"({_e(info.sim_seed)}).</p>",
            _table(("knob", "value"), sorted(knobs.items())),
            f"<pre>{_e(render_cards(cards))}</pre>",
            f'<p class="note">Export it with <code>policysearch export {_e(info.name)} '
            f"--select '{_e(rule)}' --out policy.yaml</code>.</p>",
            "</section>",
        ]
    )


def _breakdown_section(study: optuna.Study | None, view: StudyView, rule: str = "knee") -> str:
    """Per scenario of a mix, what the knee policy saves and costs (``analysis.breakdown``)."""
    from policysearch.analysis.breakdown import HEADER, breakdown, summary, table_rows

    if len(view.info.problem.scenarios()) < 2 or view.knee is None:
        return ""
    trial = select_trial(study, view.info, rule, view)
    rows = breakdown(view, trial)
    return "\n".join(
        [
            '<section id="breakdown">\n<h2>Scenario by scenario</h2>',
            f"<p>Trial {trial.number} ({_e(rule)}) against today's Linux on each scenario of "
            "the mix, from the metrics the trial stored: kernel memory saved, the relative "
            "change of each task-creation latency (n/a: the scenario creates no such task) "
            "and of CPU overhead in percentage points of machine time.</p>",
            _table(HEADER, table_rows(rows)),
            f"<p><b>{_e(summary(rows))}</b></p>",
            f'<p class="note">In a terminal: <code>policysearch breakdown {_e(view.info.name)} '
            f"--select '{_e(rule)}'</code>.</p>\n</section>",
        ]
    )


def _front_section(view: StudyView) -> str:
    head = "<h2>The front</h2>"
    if not view.front:
        return f"{head}\n<p>No feasible finished trial yet.</p>"
    info = view.info
    front = front_rows(view, view.front)
    header, cells = table_cells(front, info)
    rows = [[column[r] for column in cells] for r in range(len(front))]
    marked = next((n for n, row in enumerate(front) if row.mark == KNEE), None)
    today = " and today's Linux (marked today)" if any(r.mark == TODAY for r in front) else ""
    inert = f'<p class="note">{_e(INERT_NOTE)}</p>' if any(r.inert for r in front) else ""
    return "\n".join(
        [
            head,
            f'<p class="note">{len(view.front)} policies{today}, by '
            f"{_e(info.objectives[0].metric)}; trials with identical outcomes are shown once; "
            "the knee is highlighted.</p>",
            _table(header, rows, True, marked),
            inert,
        ]
    )


def _uncertainty_section(view: StudyView) -> str:
    """The plan, and per front point its robustness and each objective's spread ("" without
    a plan)."""
    info = view.info
    if info.plan is None:
        return ""
    head = "<h2>Under uncertainty</h2>"
    plan = (
        f'<p class="note">Each trial was evaluated under {_e(describe_plan(info.plan))}: '
        "each objective is that statistic over the draws, taken on its bad side. Robustness: "
        "the share of the draws in which the point is on the front among the front's points; "
        "spread: the 5th, 50th and 95th percentile over the draws.</p>"
    )
    if not view.front:
        return f"{head}\n{plan}\n<p>No feasible finished trial yet.</p>"
    shares = view.robustness or {}
    trials = list(view.front)
    header = ["trial", "robustness"]
    cells: list[list[str]] = [
        [str(t.number) for t in trials],
        [quantity(shares[t.number], "fraction") if t.number in shares else "-" for t in trials],
    ]
    for objective in info.objectives:
        unit = getattr(info.metric_catalogue.get(objective.metric), "unit", "")
        for n, part in enumerate(("low", "median", "high")):
            header.append(f"{objective.metric} {part}")
            values = [view.spreads.get(t.number, {}).get(objective.metric) for t in trials]
            known = [v[n] for v in values if v is not None]
            texts = iter(column(known, unit))
            cells.append([next(texts) if v is not None else "-" for v in values])
    rows = [[c[r] for c in cells] for r in range(len(trials))]
    knee = view.knee.number if view.knee is not None else None
    marked = next((n for n, t in enumerate(trials) if t.number == knee), None)
    return "\n".join([head, plan, _table(header, rows, True, marked)])


def _write_atomically(out: Path, data: bytes, flag: str = "--out") -> None:
    """Write ``data`` to ``out`` whole or not at all (``outputs.destination``)."""
    destination.write(out, data, flag)
