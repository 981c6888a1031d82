"""Issue 13: every number a person reads is written by unit, never with an exponent; `front`
chooses its points, columns and order and fits the terminal.

Each built-in job runs briefly in process (serial executor); its front table, hypervolume
line, report card, `evaluate` comparison, HTML report and every figure's texts (titles, axis
labels, tick labels, annotations) are rendered and searched for an exponent.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.text import Text

from policysearch import cli
from policysearch.analysis.front import spread
from policysearch.analysis.front_rows import front_rows
from policysearch.analysis.report_card import render_cards, report_card
from policysearch.analysis.view import study_view
from policysearch.commands import front as front_command
from policysearch.commands.evaluate import comparison_table
from policysearch.commands.text import hypervolume_line
from policysearch.jobs.config import load_job
from policysearch.outputs import plots
from policysearch.outputs.front_table import layout, render
from policysearch.outputs.report import report_html
from policysearch.run.driver import RunOptions, run_search
from policysearch.run.study_meta import read
from tests.conftest import CONFIGS

pytestmark = pytest.mark.filterwarnings("ignore::optuna.exceptions.ExperimentalWarning")

JOBS = sorted((CONFIGS / "jobs").glob("*.yaml"))
EXPONENT = re.compile(r"[0-9]e[+-][0-9]", re.IGNORECASE)
DATA_URI = re.compile(r"data:image/png;base64,[A-Za-z0-9+/=]+")


def _run(job_path: Path, journal: Path, trials: int = 40):
    opts = RunOptions(
        trials=trials,
        workers=1,
        executor="serial",
        storage=str(journal),
        study_name=job_path.stem,
        seed=0,
    )
    result = run_search(load_job(job_path), opts, out=io.StringIO())
    return result.study, read(result.study, str(journal))


def _figure_texts(figure) -> list[str]:
    FigureCanvasAgg(figure)
    figure.canvas.draw()  # tick labels exist once drawn
    texts = [t.get_text() for t in figure.findobj(Text)]
    for ax in figure.axes:
        for axis in (ax.xaxis, ax.yaxis):
            texts += [t.get_text() for t in axis.get_ticklabels()]
            texts.append(axis.get_offset_text().get_text())
            texts.append(axis.get_label_text())
    return texts


@pytest.mark.parametrize("job_path", JOBS, ids=[p.stem for p in JOBS])
def test_no_exponent_in_anything_a_person_reads(job_path: Path, tmp_path: Path) -> None:
    study, info = _run(job_path, tmp_path / "s.journal")
    view = study_view(study, info)
    assert view.trials, job_path
    shown: dict[str, str] = {
        "table": render(front_rows(view, view.front), info, "table", width=100),
        "hypervolume": hypervolume_line(view),
        "html": DATA_URI.sub("", report_html(study, info, str(tmp_path / "s.journal"))),
    }
    if info.problem.scenarios() and view.knee is not None:
        policy = info.problem.policy(info.point(view.knee.params))
        cards = report_card(policy, info.problem.scenarios())
        shown["card"] = render_cards(cards)
        today = view.baseline_metrics
        mine = dict(info.problem.evaluate(info.point(view.knee.params)))
        shown["evaluate"] = comparison_table(mine, today)
        assert "-0 more" not in shown["card"] and "-0.00%" not in shown["card"]
    for name in ("front", "hypervolume", "importances", "knobs"):
        figure = getattr(plots, f"{name}_figure")(view)
        shown[f"{name} plot"] = "\n".join(_figure_texts(figure))
    for what, text in shown.items():
        found = EXPONENT.search(text)
        assert found is None, (
            job_path.stem,
            what,
            text[max(0, found.start() - 80) : found.end() + 80],
        )
    # a metric column reads in the unit people read (KiB/MiB/GiB, µs/ms), never bare bytes
    if "kernel_memory_bytes" in shown["table"] or "pid_bytes" in shown["table"]:
        assert "iB" in shown["table"]


# --- front: --all, --columns, --sort, width ------------------------------------------------


@pytest.fixture(scope="module")
def quickstart(tmp_path_factory: pytest.TempPathFactory) -> str:
    journal = tmp_path_factory.mktemp("front") / "q.journal"
    _run(CONFIGS / "jobs" / "quickstart.yaml", journal, trials=60)
    return str(journal)


def _front(capsys, storage: str, *args: str) -> tuple[int, str, str]:
    code = cli.main(["front", "quickstart", "--storage", storage, *args])
    out, err = capsys.readouterr()
    return code, out, err


def _rows(out: str) -> list[list[str]]:
    """The table's rows of front points (today's Linux, trial ``-``, left out), the mark
    column dropped."""
    lines = out.split("\n\n")[0].splitlines()
    marked = lines[0].split()[1:2] == ["mark"]
    rows = []
    for line in lines[1:]:
        cells = line.split()
        if not cells or not cells[0].isdigit() or "policies" in line:
            continue
        if marked and len(cells) > 1 and cells[1] == "knee":
            del cells[1]
        rows.append(cells)
    return rows


def test_front_shows_a_spread_by_default_and_every_point_with_all(
    quickstart: str, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    code, out, _ = _front(capsys, quickstart, "--format", "json")
    every = [row["trial"] for row in json.loads(out)["front"] if row["trial"] is not None]
    assert code == 0 and len(every) >= 4
    monkeypatch.setattr(front_command, "SHOWN", 3)
    code, out, _ = _front(capsys, quickstart)
    assert code == 0
    knee = next(
        row["trial"]
        for row in json.loads(_front(capsys, quickstart, "--format", "json")[1])["front"]
        if row["mark"] == "knee"
    )
    assert [int(r[0]) for r in _rows(out)] == sorted(
        set(spread(every, 3)) | {knee}, key=every.index
    )
    assert "of the front's" in out and "--all" in out
    code, out, _ = _front(capsys, quickstart, "--all")
    assert [int(r[0]) for r in _rows(out)] == every
    assert "of the front's" not in out


def test_front_columns_and_sort(quickstart: str, capsys, monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    code, out, _ = _front(capsys, quickstart, "--format", "json")
    front = [row for row in json.loads(out)["front"] if row["trial"] is not None]
    code, out, _ = _front(
        capsys,
        quickstart,
        "--all",
        "--columns",
        "pid.range_width,kernel_memory_bytes",
        "--sort=-pid.range_width",
    )
    assert code == 0
    assert out.splitlines()[0].split() == [
        "trial",
        "mark",
        "pid.range_width",
        "kernel_memory_bytes",
    ]
    widths = [int(r[1].replace(",", "")) for r in _rows(out)]
    assert widths == sorted(widths, reverse=True) and len(widths) == len(front)
    code, out, _ = _front(capsys, quickstart, "--all", "--sort", "clone_latency_p99_ns")
    order = [int(r[0]) for r in _rows(out)]
    by_latency = sorted(front, key=lambda r: (r["clone_latency_p99_ns"], r["trial"]))
    assert order == [r["trial"] for r in by_latency]
    code, out, _ = _front(capsys, quickstart, "--format", "csv", "--columns", "pid_bytes")
    assert out.splitlines()[0] == (
        "trial,pid_bytes,mark,pid_bytes_vs_today,pid_bytes_vs_today_relative,inert"
    )
    lines = out.splitlines()[1:]
    assert sum(",today," in line for line in lines) == 1
    assert all(
        re.fullmatch(r"(\d+)?,[0-9.]+,(knee|today)?,[-0-9.e]*,[-0-9.e]*,[a-z_. ]*", line)
        for line in lines
    ), lines


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (
            ["--columns", "pid_byte"],
            ["--columns: unknown column 'pid_byte'", "did you mean pid_bytes"],
        ),
        (["--sort", "latency"], ["--sort: unknown metric 'latency'"]),
        (["--sort=-nope"], ["--sort: unknown metric 'nope'"]),
    ],
)
def test_front_bad_column_or_sort_is_one_line_exit_2(quickstart, capsys, args, fragments) -> None:
    code, out, err = _front(capsys, quickstart, *args)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1
    for fragment in fragments:
        assert fragment in err


def test_a_wide_front_table_fits_the_terminal_and_cuts_no_number(
    quickstart: str, capsys, monkeypatch
) -> None:
    monkeypatch.setenv("COLUMNS", "50")
    code, out, _ = _front(capsys, quickstart, "--all")
    assert code == 0
    table = out.split("\n\n")
    lines = [line for line in out.splitlines() if "hypervolume" not in line]
    assert all(len(line) <= 50 for line in lines), out
    assert len(table) >= 2  # wrapped into blocks (or pivoted)
    monkeypatch.setenv("COLUMNS", "200")
    code, wide, _ = _front(capsys, quickstart, "--all")
    for cell in _rows(wide)[0][1:]:
        assert cell in out  # every cell of the wide table appears whole


def test_layout_wraps_or_pivots_whichever_is_shorter() -> None:
    header = ["trial", *(f"column_{i}" for i in range(12))]
    one_row = [["7"], *([f"{i},000.5"] for i in range(12))]
    pivoted = layout(header, one_row, width=40)
    assert pivoted.splitlines()[0].split() == ["trial", "7"]  # one trial: a row per column
    assert len(pivoted.splitlines()) == 13
    many = [[str(n) for n in range(20)], *([f"{i}.5"] * 20 for i in range(12))]
    wrapped = layout(header, many, width=60)
    assert all(len(line) <= 60 for line in wrapped.splitlines())
    assert wrapped.count("trial") >= 2
    a_wide_cell = layout(["trial", "x"], [["1"], ["9" * 70]], width=40)
    assert "9" * 70 in a_wide_cell  # never cut


def test_spread_keeps_both_ends() -> None:
    items = list(range(40))
    assert (
        spread(items, 15)[0] == 0 and spread(items, 15)[-1] == 39 and len(spread(items, 15)) == 15
    )
    assert spread(items[:5], 15) == items[:5]


# --- issue 23 item 7: one number format in every command, through the CLI -------------------

RAW_PRODUCT = re.compile(r"\b\d{1,3}(?:,\d{3}){4,}\b")
"""A number of 13 digits or more with separators: a raw product of units (bytes x ns)."""


@pytest.mark.timeout(900)
@pytest.mark.parametrize("job_path", JOBS, ids=[p.stem for p in JOBS])
def test_every_command_reads_without_exponents_or_raw_products(
    job_path: Path, tmp_path: Path
) -> None:
    from tests.conftest import run_cli

    def cli_ok(*args: str) -> str:
        result = run_cli(*args, cwd=tmp_path)
        assert result.returncode == 0, (args, result.stderr)
        return result.stdout

    storage = ("--storage", "s.journal")
    for study, seed in (("a", "0"), ("b", "1")):
        cli_ok(
            "run", str(job_path), "--trials", "24", "--workers", "1", "--executor", "serial",
            *storage, "--study", study, "--seed", seed, "--quiet",
        )  # fmt: skip
    raw = json.loads(cli_ok("front", "a", *storage, "--format", "json"))["hypervolume"]
    shown = {
        "front": cli_ok("front", "a", *storage),
        "studies": cli_ok("studies", *storage),
        "compare": cli_ok("compare", "a", "b", *storage),
    }
    kernel = job_path.stem != "benchmark-zdt1"
    if kernel:
        shown["breakdown"] = cli_ok("breakdown", "a", *storage)
        cli_ok("export", "a", *storage, "--select", "knee", "--out", "knee.yaml")
        shown["evaluate"] = cli_ok("evaluate", "knee.yaml", "--all")
    for what, text in shown.items():
        found = EXPONENT.search(text)
        assert found is None, (job_path.stem, what, text[max(0, found.start() - 80) :][:200])
        product = RAW_PRODUCT.search(text)
        assert product is None, (job_path.stem, what, product.group(0))
        if raw > 1000:
            assert f"{raw:,.0f}" not in text and f"{raw:.0f}" not in text, (what, raw)
    for what in ("front", "studies", "compare"):
        assert "hypervolume" in shown[what] and "%" in shown[what], what
    assert "of the reference box" in shown["front"]
    if kernel:
        assert "share of the machine" in shown["breakdown"]


def test_the_compare_plot_title_fits_the_figure(tmp_path: Path) -> None:
    """The title of ``compare --plot`` with long study names wraps inside the figure."""
    from matplotlib.figure import Figure

    from policysearch.analysis.compare import compare
    from policysearch.outputs import compare_plot

    views = []
    for name, seed in (
        ("a-rather-long-study-name-for-the-left", 0),
        ("and-another-on-the-right", 1),
    ):
        opts = RunOptions(
            trials=20, workers=1, executor="serial", storage=str(tmp_path / "c.journal"),
            study_name=name, seed=seed,
        )  # fmt: skip
        result = run_search(load_job(CONFIGS / "jobs" / "quickstart.yaml"), opts, out=io.StringIO())
        views.append(study_view(result.study, read(result.study, str(tmp_path / "c.journal"))))
    # STORAGE::STUDY labels, as compare names studies of two storages with one name
    labels = [f"/home/someone/experiments/2026/policysearch.journal::{v.info.name}" for v in views]
    comparison = compare(views, labels)
    boxes: list[tuple[str, float, float, float]] = []

    def measure(figure: Figure) -> bytes:
        figure.canvas.draw()
        for text in figure.findobj(Text):
            if "Pareto fronts compared" in text.get_text():
                box = text.get_window_extent()
                boxes.append((text.get_text(), box.x0, box.x1, figure.bbox.width))
        return original(figure)

    original = compare_plot._png
    compare_plot._png = measure  # type: ignore[assignment]
    try:
        compare_plot.compare_png(comparison)
    finally:
        compare_plot._png = original  # type: ignore[assignment]
    assert boxes
    for text, left, right, width in boxes:
        assert left >= 0 and right <= width, (text, left, right, width)


# --- constants and calibration: values in their own unit, through quantities ------------------


@pytest.mark.parametrize("command", ["constants", "calibration"])
def test_the_constants_and_calibration_tables_print_no_exponent(command: str, capsys) -> None:
    """Their number lines (the first of each pair; the second is the source's own words,
    quoted as written) read without an ``e`` exponent, tiny values included."""
    code = cli.main([command])
    out = capsys.readouterr().out
    assert code == 0
    lines = out.splitlines()
    numbers = lines[1::2] if command == "calibration" else lines[0::2]
    assert len(numbers) > 20
    for line in numbers:
        assert EXPONENT.search(line) is None, line
    if command == "constants":
        share = next(x for x in numbers if x.startswith("workload.stacks.depth_share_16k "))
        assert " 0.00005 fraction " in share and "[0.000001, 0.001]" in share, share
        tolerance = next(x for x in numbers if x.startswith("contention._BISECTION_TOLERANCE "))
        assert " 1×10⁻¹⁴ " in tolerance, tolerance
