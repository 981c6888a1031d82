"""The front as a table, JSON or CSV (``front``, ``run``'s summary, the HTML report).

Rows come from ``analysis.front_rows``: the points shown, the knee and today's Linux, marked.
Columns: the trial number and the mark, then each objective followed by its change against
today's Linux (``<metric> vs today``: memory ``saves``/``costs``, a latency ``faster``/
``slower``), then the searched knobs in the job's order. A knob the row's other knobs make
inert is shown in parentheses, ``(twice)``, and a line under the table says why. Booleans read
``yes``/``no``; numbers go through ``policysearch.quantities``, one scale per column. JSON and
CSV carry the same rows with raw numbers: ``mark``, ``vs_today`` (``today``, ``change``,
``relative`` per objective) and ``inert``.

A study run under an uncertainty plan adds, after the objectives, the ``robustness`` column
(the share of the plan's draws in which the point stays on the front, ``analysis.robustness``;
today's Linux has none: ``-``); its JSON rows carry ``robustness`` (a number in [0, 1], ``null``
for today's Linux) and ``spread`` (metric -> ``[low, median, high]`` over the draws), its CSV
rows ``robustness`` and ``METRIC_low``, ``METRIC_median``, ``METRIC_high`` per objective, last.
"""

from __future__ import annotations

import csv
import io
import json
import textwrap
from collections.abc import Sequence
from typing import Any

from objectives import knob_catalogue, one_of
from policysearch.analysis.front_rows import ROBUSTNESS, Row, describe_change, vs_today
from policysearch.errors import BadInput
from policysearch.quantities import BYTE_UNITS, TIME_UNITS, column, quantity
from policysearch.run.study_meta import StudyInfo

VS_TODAY = " vs today"
"""Suffix of the column holding an objective's change against today's Linux."""
INERT_NOTE = (
    "(value): an inert knob: the row's other knobs make it irrelevant (pid.lock_mode once "
    "PID ranges are used), so it cannot change the metrics"
)
SPREAD_PARTS = ("low", "median", "high")
"""The CSV columns of an objective's spread over an uncertainty plan's draws."""
_SCALED = BYTE_UNITS | TIME_UNITS | {"fraction"}
"""Knob units shown on a scale (``4 KiB``, ``1.00 s``, ``5%``); other knob values are counts."""


def knob_names(info: StudyInfo, rows: Sequence[Row] = ()) -> list[str]:
    """The searched knobs in the job's order (then any other knob a row carries)."""
    names = [d.knob for d in info.dimensions]
    return names + sorted({k for r in rows for k in r.knobs} - set(names))


def columns_of(
    rows: Sequence[Row], info: StudyInfo, wanted: Sequence[str] | None = None
) -> list[str]:
    """The value columns: ``wanted`` (``--columns``) checked, else the objectives then the
    searched knobs; each objective shown is followed by its change against today's Linux
    when a row is today's.

    Raises:
        BadInput: a name that is neither a metric nor a knob of the study.
    """
    knobs = knob_names(info, rows)
    robust = [ROBUSTNESS] if info.plan is not None else []
    if not wanted:
        names = [o.metric for o in info.objectives] + robust + knobs
    else:
        known = [*info.metric_catalogue, *robust, *knobs]
        for name in wanted:
            if name not in known and name not in ("trial", "mark"):
                raise BadInput(
                    "--columns",
                    "",
                    f"unknown column {name!r}; "
                    + one_of(
                        name, known, listed_by="policysearch metrics` and `policysearch knobs"
                    ),
                )
        names = [n for n in dict.fromkeys(wanted) if n not in ("trial", "mark")]
    if not any(r.mark == "today" for r in rows):
        return names
    objectives = {o.metric for o in info.objectives}
    out: list[str] = []
    for name in names:
        out.append(name)
        if name in objectives:
            out.append(name + VS_TODAY)
    return out


def sort_rows(rows: Sequence[Row], info: StudyInfo, key: str | None) -> list[Row]:
    """The rows ordered by ``key`` (``METRIC`` ascending, ``-METRIC`` descending; a knob
    works too), ties by trial number (today's Linux last); ``None`` keeps the given order.

    Raises:
        BadInput: a name that is neither a metric nor a knob of the study.
    """
    if not key:
        return list(rows)
    name = key.removeprefix("-")
    robust = [ROBUSTNESS] if info.plan is not None else []
    known = ["trial", *info.metric_catalogue, *robust, *knob_names(info, rows)]
    if name not in known:
        raise BadInput(
            "--sort",
            "",
            f"unknown metric {name!r}; " + one_of(name, known, listed_by="policysearch metrics"),
        )
    descending = key.startswith("-")

    def value(row: Row) -> tuple:
        raw = row.trial if name == "trial" else row.value(name)
        if raw is None or (isinstance(raw, float) and raw != raw):
            return (1, 0, "")  # missing values last, either way
        if isinstance(raw, bool | str):
            return (0, 0, _Reversed(str(raw)) if descending else str(raw))
        number = float(raw)
        return (0, -number if descending else number, "")

    def number(row: Row) -> float:
        return row.trial if row.trial is not None else float("inf")

    return sorted(rows, key=lambda r: (value(r), number(r)))


class _Reversed(str):
    """A string that sorts in reverse (for ``--sort=-KNOB`` on a categorical knob)."""

    __slots__ = ()

    def __lt__(self, other: str) -> bool:  # type: ignore[override]
        return str.__gt__(self, other)


def render(
    rows: Sequence[Row],
    info: StudyInfo,
    fmt: str,
    columns: Sequence[str] | None = None,
    width: int | None = None,
) -> str:
    """The rows as ``table``, ``json`` or ``csv`` (module doc).

    The table, wider than ``width`` characters, is cut into blocks of columns, or pivoted (a
    row per column) when that takes fewer lines. No number is ever cut.
    """
    names = columns_of(rows, info, columns)
    today = next((r for r in rows if r.mark == "today"), None)
    values = [n for n in names if not n.endswith(VS_TODAY)]
    if fmt == "json":
        return json.dumps(
            {
                "study": info.name,
                "objectives": [[o.metric, o.direction] for o in info.objectives],
                "front": [_json_row(r, values, info, today) for r in rows],
            },
            indent=2,
        )
    if fmt == "csv":
        return _csv(rows, names, info, today)
    header, cells = table_cells(rows, info, columns)
    text = layout(header, cells, width, keys=2 if header[1:2] == ["mark"] else 1)
    shown = set(values)
    if any(r.inert & shown for r in rows):
        text += "\n" + (textwrap.fill(INERT_NOTE, width) if width else INERT_NOTE)
    return text


def _json_row(row: Row, names: Sequence[str], info: StudyInfo, today: Row | None) -> dict:
    data: dict[str, Any] = {"trial": row.trial, "mark": row.mark}
    data.update({n: row.value(n) for n in names})
    if today is not None:
        data["vs_today"] = vs_today(row, info, today)
    data["inert"] = sorted(k for k in row.inert if k in row.knobs)
    if info.plan is not None:
        data[ROBUSTNESS] = row.robustness
        data["spread"] = {m: list(s) for m, s in row.spread.items()}
    return data


def _csv(rows: Sequence[Row], names: Sequence[str], info: StudyInfo, today: Row | None) -> str:
    """The CSV: the trial and the value columns first, as before the marks existed (scripts
    read them by position), then ``mark``, each objective's change against today's Linux
    (``METRIC_vs_today`` in its unit, ``METRIC_vs_today_relative``) and ``inert``."""
    values = [n for n in names if not n.endswith(VS_TODAY)]
    changes = [n.removesuffix(VS_TODAY) for n in names if n.endswith(VS_TODAY)]
    fields = ["trial", *values, "mark"]
    for metric in changes:
        fields += [f"{metric}_vs_today", f"{metric}_vs_today_relative"]
    fields.append("inert")
    spreads = [o.metric for o in info.objectives] if info.plan is not None else []
    if spreads and ROBUSTNESS not in fields:
        fields.append(ROBUSTNESS)
    fields += [f"{m}_{part}" for m in spreads for part in SPREAD_PARTS]
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        line: dict[str, Any] = {"trial": "" if row.trial is None else row.trial, "mark": row.mark}
        for name in values:
            value = row.value(name)
            line[name] = "" if value is None else value
        against = vs_today(row, info, today)
        for metric in changes:
            found = against.get(metric, {})
            relative = found.get("relative")
            line[f"{metric}_vs_today"] = found.get("change", "")
            line[f"{metric}_vs_today_relative"] = "" if relative is None else relative
        line["inert"] = " ".join(sorted(k for k in row.inert if k in row.knobs))
        if spreads:
            line[ROBUSTNESS] = "" if row.robustness is None else row.robustness
        for metric in spreads:
            found = row.spread.get(metric)
            for n, part in enumerate(SPREAD_PARTS):
                line[f"{metric}_{part}"] = "" if found is None else found[n]
        writer.writerow(line)
    return buf.getvalue().rstrip("\n")


def table_cells(
    rows: Sequence[Row], info: StudyInfo, columns: Sequence[str] | None = None
) -> tuple[list[str], list[list[str]]]:
    """The header and the cells, column by column (``cells[c][r]``), of the table of
    ``rows``: the trial number and the mark, then ``columns_of``'s columns, each metric column
    on one scale of its unit (``quantities.column``)."""
    names = columns_of(rows, info, columns)
    today = next((r for r in rows if r.mark == "today"), None)
    catalogue = knob_catalogue()
    cells = [["-" if r.trial is None else str(r.trial) for r in rows], [r.mark for r in rows]]
    for name in names:
        if name.endswith(VS_TODAY):
            cells.append(_change_column(rows, name.removesuffix(VS_TODAY), info, today))
        elif name == ROBUSTNESS and info.plan is not None:
            cells.append(_robustness_column([r.robustness for r in rows]))
        elif name in info.metric_catalogue and name not in catalogue:
            unit = getattr(info.metric_catalogue[name], "unit", "")
            cells.append(_metric_column([r.value(name) for r in rows], unit))
        else:
            knob = catalogue.get(name)
            unit = knob.meta.get("unit", "") if knob is not None else ""
            cells.append(_knob_column(rows, name, unit))
    header = ["trial", "mark", *names]
    if not any(r.mark for r in rows):
        del header[1], cells[1]
    return header, cells


def _change_column(rows: Sequence[Row], metric: str, info: StudyInfo, today: Row | None) -> list:
    if today is None or today.metrics.get(metric) is None:
        return ["" for _ in rows]
    unit = getattr(info.metric_catalogue.get(metric), "unit", "")
    base = float(today.metrics[metric])
    out = []
    for row in rows:
        value = row.metrics.get(metric)
        if row is today:
            out.append("")
        elif value is None:
            out.append("-")
        else:
            out.append(describe_change(float(value), base, unit, metric))
    return out


def _robustness_column(shares: Sequence[float | None]) -> list[str]:
    """Shares of draws as percentages on one scale; ``-`` for a row without one."""
    known = [s for s in shares if s is not None]
    texts = iter(column(known, "fraction"))
    return [next(texts) if s is not None else "-" for s in shares]


def _metric_column(values: Sequence[object], unit: str) -> list[str]:
    numbers = [v for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
    if len(numbers) == len(values):
        return column([float(v) for v in numbers], unit)
    return [cell(v) for v in values]


def _knob_column(rows: Sequence[Row], name: str, unit: str) -> list[str]:
    values = [r.value(name) for r in rows]
    numeric = [isinstance(v, int | float) and not isinstance(v, bool) for v in values]
    if unit in _SCALED and all(numeric):
        texts = column([float(v) for v in values], unit)  # type: ignore[arg-type]
    else:
        texts = [cell(v) for v in values]
    return [f"({t})" if name in r.inert else t for t, r in zip(texts, rows, strict=True)]


def cell(value: object) -> str:
    """A knob value or other number as people read it: ``1,024``, ``0.25``, ``yes``."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if not isinstance(value, int | float):
        return str(value)
    if isinstance(value, int) or float(value).is_integer():
        return f"{int(value):,}"
    return quantity(value, "")


def layout(
    header: Sequence[str], cells: Sequence[Sequence[str]], width: int | None, keys: int = 1
) -> str:
    """A table of columns (``cells[c][r]``; the first ``keys`` columns, left-aligned, are the
    key repeated in every block: the trial and its mark), fitted to ``width``: one block if it
    fits, else blocks of columns or the pivoted table (a row per column, a column per trial),
    whichever takes fewer blocks, then lines."""
    straight = _blocks(list(header), [list(c) for c in cells], width, keys)
    if width is None or "\n\n" not in straight:
        return straight
    rows = len(cells[0]) if cells else 0
    pivot_header = [header[0], *cells[0]] if cells else [header[0]]
    pivot_cells = [list(header[1:])] + [[c[r] for c in cells[1:]] for r in range(rows)]
    pivoted = _blocks(pivot_header, pivot_cells, width, 1)

    def size(text: str) -> tuple[int, int]:
        return text.count("\n\n") + 1, len(text.splitlines())

    return pivoted if size(pivoted) < size(straight) else straight


def _blocks(header: list[str], cells: list[list[str]], width: int | None, keys: int) -> str:
    widths = [max(len(h), *(len(c) for c in col)) for h, col in zip(header, cells, strict=True)]
    keys = min(keys, len(header))
    first, rest = list(range(keys)), list(range(keys, len(header)))
    key_width = sum(widths[k] for k in first) + 2 * (keys - 1)
    groups: list[list[int]] = []
    while rest:
        group, used = [], key_width
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
        shown = [*first, *group]
        left = lambda i, text: text.ljust(widths[i]) if i < keys else text.rjust(widths[i])  # noqa: E731
        lines = ["  ".join(left(i, header[i]) for i in shown).rstrip()]
        lines += [
            "  ".join(left(i, cells[i][r]) for i in shown).rstrip() for r in range(len(cells[0]))
        ]
        out.append("\n".join(lines))
    return "\n\n".join(out)
