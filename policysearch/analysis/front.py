"""From a stored study to a chosen trial (the ``--select`` rules), and printable tables
(``render``: table, JSON or CSV).

The front itself is computed by ``policysearch.analysis.view``; the functions here read a
``StudyView`` when the caller has one, and build it otherwise.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import optuna
from optuna.trial import FrozenTrial

from objectives import one_of
from policysearch.analysis.view import StudyView, study_view
from policysearch.errors import BadInput
from policysearch.quantities import column, quantity
from policysearch.run import records
from policysearch.run.study_meta import StudyInfo

SELECT_HELP = (
    "knee | trial:N | min:METRIC | max:METRIC, optionally under bounds: "
    "min:METRIC,OTHER<=VALUE,OTHER>=VALUE (a VALUE ending in % is relative to today's Linux, "
    "e.g. min:kernel_memory_bytes,clone_latency_p99_ns<=110%)"
)
_BOUND = re.compile(r"\s*([A-Za-z0-9_]+)\s*(<=|>=)\s*([-+]?[0-9.]+(?:[eE][-+]?[0-9]+)?)(%?)\s*")


def feasible(trial: FrozenTrial, info: StudyInfo) -> bool:
    """True when the trial's stored metrics satisfy every constraint of the job."""
    return records.is_feasible(trial, info.constraints)


def select_trial(
    study: optuna.Study | None, info: StudyInfo, rule: str, view: StudyView | None = None
) -> FrozenTrial:
    """The trial a selection rule picks (see ``SELECT_HELP``).

    Args:
        study: the loaded study (``None`` when ``view`` is given: read from it alone).
        info: its stored job facts.
        rule: the ``--select`` rule.
        view: the study's view, when the caller has it: its trials, knee and baseline are
            reused rather than read or computed again.

    Raises:
        BadInput: unknown rule, unknown trial or metric, or no feasible trial.
    """
    if view is None:
        if study is None:
            raise ValueError("select_trial needs the study or its view")
        view = study_view(study, info)
    if rule.startswith("trial:"):
        number = rule.removeprefix("trial:")
        if not number.isdigit():
            raise BadInput("--select", "", f"found {rule!r}, expected trial:N with N a number")
        found = view.trial(int(number))
        if found is None:
            raise BadInput(
                "--select", "", f"trial {number} is not a finished trial of study {info.name!r}"
            )
        return found
    if view.knee is None:
        raise BadInput("--select", "", f"study {info.name!r} has no feasible finished trial yet")
    if rule == "knee":
        return view.knee
    head, *bound_texts = rule.split(",")
    match = re.fullmatch(r"(min|max):([A-Za-z0-9_]+)", head.strip())
    if match is None:
        raise BadInput("--select", "", f"found {rule!r}, expected {SELECT_HELP}")
    sense, metric = match.groups()
    catalogue = info.metric_catalogue
    _check_metric(metric, catalogue)
    bounds = [_bound(text, view, catalogue) for text in bound_texts]
    pool = [
        t
        for t, ok in zip(view.trials, view.feasible, strict=True)
        if ok and all(bound.holds(records.metric(t, bound.metric)) for bound in bounds)
    ]
    if not pool:
        raise BadInput(
            "--select",
            "",
            f"no feasible finished trial of study {info.name!r} meets "
            f"{', '.join(map(str, bounds))}",
        )
    sign = 1.0 if sense == "min" else -1.0
    return min(pool, key=lambda t: (sign * records.metric(t, metric), t.number))


@dataclass(frozen=True)
class Bound:
    """A selection bound: ``metric op value`` (``value`` already resolved from a percent)."""

    metric: str
    op: str
    value: float
    text: str

    def holds(self, observed: float) -> bool:
        return observed <= self.value if self.op == "<=" else observed >= self.value

    def __str__(self) -> str:
        return self.text


def _check_metric(metric: str, catalogue: Mapping[str, object]) -> None:
    if metric not in catalogue:
        raise BadInput(
            "--select",
            "",
            f"unknown metric {metric!r}; "
            + one_of(metric, catalogue, listed_by="policysearch metrics"),
        )


def _bound(text: str, view: StudyView, catalogue: Mapping[str, object]) -> Bound:
    match = _BOUND.fullmatch(text)
    if match is None:
        raise BadInput(
            "--select", "", f"found bound {text!r}, expected METRIC<=VALUE or METRIC>=VALUE[%]"
        )
    metric, op, number, percent = match.groups()
    _check_metric(metric, catalogue)
    value = float(number)
    label = f"{metric}{op}{number}{percent}"
    if percent:
        today_metrics = view.baseline_metrics
        if today_metrics is None:
            info = view.info
            raise BadInput(
                "--select",
                "",
                f"{label}: study {info.name!r} ({info.problem.name}) has no baseline to take a "
                "percent of",
            )
        today = today_metrics[metric]
        value = today * value / 100.0
        label += f" of today's {today:.6g} (= {value:.6g})"
    return Bound(metric, op, value, label)


SHOWN = 15
"""Front points a table shows without ``--all`` (spread evenly along the front)."""


def spread(items: Sequence[FrozenTrial], count: int = SHOWN) -> list[FrozenTrial]:
    """At most ``count`` items, evenly spread over ``items`` (both ends kept)."""
    if len(items) <= count:
        return list(items)
    step = (len(items) - 1) / (count - 1)
    return [items[round(i * step)] for i in range(count)]


def columns_of(
    trials: Sequence[FrozenTrial], info: StudyInfo, wanted: Sequence[str] | None = None
) -> list[str]:
    """The columns of a front table: ``wanted`` (``--columns``) checked, else the objectives
    then the searched knobs.

    Raises:
        BadInput: a name that is neither a metric nor a knob of the study.
    """
    knobs = sorted({k for t in trials for k in t.params} | {d.knob for d in info.dimensions})
    if not wanted:
        return [o.metric for o in info.objectives] + knobs
    known = [*info.metric_catalogue, *knobs]
    for name in wanted:
        if name not in known and name != "trial":
            raise BadInput(
                "--columns",
                "",
                f"unknown column {name!r}; "
                + one_of(name, known, listed_by="policysearch metrics` and `policysearch knobs"),
            )
    return [name for name in dict.fromkeys(wanted) if name != "trial"]


def sort_trials(
    trials: Sequence[FrozenTrial], info: StudyInfo, key: str | None
) -> list[FrozenTrial]:
    """The trials ordered by ``key`` (``METRIC`` ascending, ``-METRIC`` descending; a knob
    works too), ties by trial number; ``None`` keeps the given order.

    Raises:
        BadInput: a name that is neither a metric nor a knob of the study.
    """
    if not key:
        return list(trials)
    name = key.removeprefix("-")
    knobs = sorted({k for t in trials for k in t.params} | {d.knob for d in info.dimensions})
    known = ["trial", *info.metric_catalogue, *knobs]
    if name not in known:
        raise BadInput(
            "--sort",
            "",
            f"unknown metric {name!r}; " + one_of(name, known, listed_by="policysearch metrics"),
        )
    descending = key.startswith("-")

    def value(trial: FrozenTrial) -> tuple:
        raw = trial.number if name == "trial" else _value(trial, name)
        missing = raw is None or (isinstance(raw, float) and raw != raw)
        if missing:
            return (1, 0, "")  # missing values last, either way
        if isinstance(raw, bool | str):
            return (0, 0, str(raw)) if not descending else (0, 0, _Reversed(str(raw)))
        number = float(raw)
        return (0, -number if descending else number, "")

    return sorted(trials, key=lambda t: (value(t), t.number))


class _Reversed(str):
    """A string that sorts in reverse (for ``--sort=-KNOB`` on a categorical knob)."""

    __slots__ = ()

    def __lt__(self, other: str) -> bool:  # type: ignore[override]
        return str.__gt__(self, other)


def render(
    trials: Sequence[FrozenTrial],
    info: StudyInfo,
    fmt: str,
    columns: Sequence[str] | None = None,
    width: int | None = None,
) -> str:
    """The trials as ``table``, ``json`` or ``csv``: number, objective values, knobs.

    ``columns`` chooses the columns (``columns_of``). JSON and CSV carry raw numbers; the
    table shows every number as people read it (``policysearch.quantities``: one
    scale per column) and, wider than ``width`` characters, is cut into blocks of columns, or
    pivoted (a row per column) when that takes fewer lines. No number is ever cut.
    """
    names = columns_of(trials, info, columns)
    rows = [{"trial": t.number, **{n: _value(t, n) for n in names}} for t in trials]
    if fmt == "json":
        return json.dumps(
            {
                "study": info.name,
                "objectives": [[o.metric, o.direction] for o in info.objectives],
                "front": rows,
            },
            indent=2,
        )
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=["trial", *names], lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        return buf.getvalue().rstrip("\n")
    header, cells = table_cells(trials, info, names)
    return layout(header, cells, width)


def table_cells(
    trials: Sequence[FrozenTrial], info: StudyInfo, columns: Sequence[str] | None = None
) -> tuple[list[str], list[list[str]]]:
    """The header and the cells, column by column (``cells[c][r]``), of the table of
    ``trials``: the trial number, then ``columns_of``'s columns, each metric column on one
    scale of its unit (``quantities.column``), knob values as written."""
    names = columns_of(trials, info, columns)
    cells = [[str(t.number) for t in trials]]
    cells += [_column([_value(t, n) for t in trials], _unit(info, n)) for n in names]
    return ["trial", *names], cells


def layout(header: Sequence[str], cells: Sequence[Sequence[str]], width: int | None) -> str:
    """A table of columns (``cells[c][r]``; the first is the key repeated in every block),
    fitted to ``width``: one block if it fits, else blocks of columns or the pivoted table
    (a row per column, a column per trial), whichever takes fewer blocks, then lines."""
    straight = _blocks(list(header), [list(c) for c in cells], width)
    if width is None or "\n\n" not in straight:
        return straight
    rows = len(cells[0]) if cells else 0
    pivot_header = [header[0], *cells[0]] if cells else [header[0]]
    pivot_cells = [list(header[1:])] + [[c[r] for c in cells[1:]] for r in range(rows)]
    pivoted = _blocks(pivot_header, pivot_cells, width)

    def size(text: str) -> tuple[int, int]:
        return text.count("\n\n") + 1, len(text.splitlines())

    return pivoted if size(pivoted) < size(straight) else straight


def _blocks(header: list[str], cells: list[list[str]], width: int | None) -> str:
    widths = [max(len(h), *(len(c) for c in col)) for h, col in zip(header, cells, strict=True)]
    first, rest = 0, list(range(1, len(header)))
    groups: list[list[int]] = []
    while rest:
        group, used = [], widths[first]
        for c in rest:
            if group and width is not None and used + 2 + widths[c] > width:
                break
            group.append(c)
            used += 2 + widths[c]
        groups.append(group)
        rest = rest[len(group) :]
    if not groups:
        groups = [[]]
    out = []
    for group in groups:
        shown = [first, *group]
        left = lambda i, text: text.ljust(widths[i]) if i == first else text.rjust(widths[i])  # noqa: E731
        lines = ["  ".join(left(i, header[i]) for i in shown).rstrip()]
        lines += [
            "  ".join(left(i, cells[i][r]) for i in shown).rstrip()
            for r in range(len(cells[first]))
        ]
        out.append("\n".join(lines))
    return "\n\n".join(out)


def _value(trial: FrozenTrial, name: str) -> object:
    if name in trial.params:
        return trial.params[name]
    return records.metrics(trial).get(name)


def _unit(info: StudyInfo, name: str) -> str | None:
    """The unit of a metric column (``None`` for a knob)."""
    spec = info.metric_catalogue.get(name)
    return getattr(spec, "unit", "") if spec is not None else None


def _column(values: Sequence[object], unit: str | None) -> list[str]:
    numbers = [v for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
    if unit is not None and len(numbers) == len(values):
        return column([float(v) for v in numbers], unit)
    return [_cell(v) for v in values]


def number(value: object) -> str:
    """A knob value or any other number as people read it: ``1,024``, ``0.25``, ``True``."""
    return _cell(value)


def _cell(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    return quantity(value, "")
