"""The HTML report and the plots: self-contained, rendered offline by headless Chromium.

A small quick-start study (40 trials, serial) is run once through the CLI; ``report`` writes its
page. The page is checked statically (no external reference, no script) and in Chromium with
every network fetch bound to fail: the DOM holds the report card and the embedded front image,
and the screenshot shows the front plot's own colours. ``front --plot`` writes a PNG or an HTML
page and refuses another suffix in one line. Studies made in process cover the edge cases:
no trial, identical outcomes, one knob, three objectives.
"""

from __future__ import annotations

import base64
import io
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
import optuna
import pytest
from matplotlib import image as mpimg
from optuna.trial import create_trial

from policysearch.analysis.view import study_view
from policysearch.jobs.config import job_from_mapping
from policysearch.jobs.space import distributions
from policysearch.outputs import plots
from policysearch.outputs.report import write_report
from policysearch.run.study_meta import read, record
from tests.browser import chromium_or_skip, dump_dom, screenshot
from tests.conftest import CONFIGS, assert_one_line_error, run_cli

pytestmark = pytest.mark.filterwarnings("ignore::optuna.exceptions.ExperimentalWarning")

QUICKSTART = CONFIGS / "jobs" / "quickstart.yaml"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
BASELINE_RED = (0xD6, 0x27, 0x28)  # plots.BASELINE_COLOUR: only the front plot uses it
KNEE_ORANGE = (0xFF, 0x7F, 0x0E)  # plots.KNEE_COLOUR


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    """A folder holding a 40-trial quick-start study and its report ``r.html``."""
    where = tmp_path_factory.mktemp("report")
    ran = run_cli("run", str(QUICKSTART), "--executor", "serial", "--trials", "40", cwd=where)
    assert ran.returncode == 0, ran.stderr
    made = run_cli("report", "quickstart", "--out", "r.html", cwd=where)
    assert made.returncode == 0, made.stderr
    assert made.stdout.strip() == "r.html"
    return where


class _Tags(HTMLParser):
    """Every start tag with its attributes, and the page's text."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _parse(page: str) -> _Tags:
    parser = _Tags()
    parser.feed(page)
    return parser


def _front_png(tags: _Tags) -> bytes:
    (front,) = [a for t, a in tags.tags if t == "img" and a.get("id") == "front-plot"]
    src = front["src"] or ""
    assert src.startswith("data:image/png;base64,"), src[:60]
    return base64.b64decode(src.removeprefix("data:image/png;base64,"))


def _assert_picture(png: bytes, min_width: int = 400) -> None:
    """A decodable PNG of a real figure: wide enough and far from a single colour."""
    assert png.startswith(PNG_SIGNATURE)
    pixels = mpimg.imread(io.BytesIO(png), format="png")
    height, width = pixels.shape[:2]
    assert width >= min_width and height >= 200, pixels.shape
    assert _colours((pixels[..., :3] * 255).round().astype(np.int32)) > 50


def _colours(rgb: np.ndarray) -> int:
    """How many distinct colours an (..., 3) array of 0..255 values holds."""
    rgb = rgb.astype(np.int32)
    # one integer per pixel: np.unique over rows (axis=0) takes seconds on a screenshot
    return len(np.unique((rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2]))


def test_report_is_self_contained(folder: Path) -> None:
    page = (folder / "r.html").read_text()
    tags = _parse(page)
    for tag, attrs in tags.tags:
        for key in ("src", "href"):
            value = (attrs.get(key) or "").strip().lower()
            assert not value.startswith(("http:", "https:", "//")), (tag, key, value[:80])
            if value:
                assert value.startswith(("data:", "#")), (tag, key, value[:80])
        assert not (tag == "script" and "src" in attrs), attrs
        assert tag != "link", attrs  # no stylesheet, font or icon from anywhere
    assert not re.search(r"url\(|@import", page), "CSS must not load anything"
    assert "<script" not in page  # nothing the page shows depends on a script
    text = " ".join(" ".join(tags.text).split())
    assert "policysearch report: quickstart" in text
    for fact in ("thread-churn-20", "pid_bytes", "minimize", "clone_throughput_per_s >= 500000"):
        assert fact in text, fact
    assert "stack_overflows_per_day <= 0.000001" in text and "automatic" in text  # the hard limit
    assert "pid.range_share_cpus" in text and "1 to 32" in text  # a knob and its range
    assert re.search(r"finished \(complete\): 40", text), text[:2000]
    assert "Hypervolume of the front" in text and "reference point [" in text
    assert "memory saved" in text
    _assert_picture(_front_png(tags))
    images = {a.get("id") for t, a in tags.tags if t == "img"}
    assert {"front-plot", "hypervolume-plot", "importance-plot", "knobs-plot"} <= images


def test_report_renders_offline_in_chromium(folder: Path, tmp_path: Path) -> None:
    chromium = chromium_or_skip()
    page = folder / "r.html"
    dom = dump_dom(chromium, page, tmp_path / "profile-dom")
    tags = _parse(dom)
    assert "memory saved" in " ".join(tags.text)
    assert any(t == "section" and a.get("id") == "report-card" for t, a in tags.tags)
    _assert_picture(_front_png(tags))
    shot = screenshot(chromium, page, tmp_path / "shot.png", tmp_path / "profile-shot")
    pixels = (mpimg.imread(shot)[..., :3] * 255).round().astype(np.int16)
    assert pixels.shape[:2] == (3000, 1400), pixels.shape
    non_white = np.any(pixels < 245, axis=-1)
    assert non_white.mean() > 0.03, non_white.mean()
    assert _colours(pixels) > 200
    # The front plot's own colours reach the screen: the image decoded and was drawn (a broken
    # image would show an icon, and the page itself has neither colour).
    for colour in (BASELINE_RED, KNEE_ORANGE):
        close = np.all(np.abs(pixels - np.array(colour)) <= 8, axis=-1)
        assert close.sum() >= 20, (colour, int(close.sum()))


def test_front_plot_png_and_html(folder: Path) -> None:
    as_png = run_cli("front", "quickstart", "--plot", "f.png", cwd=folder)
    assert as_png.returncode == 0, as_png.stderr
    assert "wrote f.png" in as_png.stdout
    _assert_picture((folder / "f.png").read_bytes())
    as_html = run_cli("front", "quickstart", "--format", "json", "--plot", "f.html", cwd=folder)
    assert as_html.returncode == 0, as_html.stderr
    assert as_html.stdout.lstrip().startswith("{")  # the JSON stays alone on stdout
    _assert_picture(_front_png(_parse((folder / "f.html").read_text())))


def test_bad_plot_name_and_bad_study_exit_2_in_one_line(folder: Path) -> None:
    wrong = run_cli("front", "quickstart", "--plot", "f.txt", cwd=folder)
    assert_one_line_error(wrong, "--plot", "f.txt", ".png or .html")
    assert not (folder / "f.txt").exists()
    unknown = run_cli("report", "nosuch", "--out", "x.html", cwd=folder)
    assert_one_line_error(unknown, "nosuch")
    no_folder = run_cli("report", "quickstart", "--out", "missing/x.html", cwd=folder)
    assert_one_line_error(no_folder, "--out", "missing")
    assert not (folder / "x.html").exists()


def _study(job: dict[str, Any], params: list[dict[str, Any]]) -> tuple[optuna.Study, Any]:
    """An in-memory study of ``job`` holding one simulated trial per parameter set."""
    config = job_from_mapping(
        {"scenario": "thread-churn-20", "constraints": [], **job},
        source="job.yaml",
        base_dir=CONFIGS / "jobs",
        default_name="edge",
    )
    study = optuna.create_study(
        study_name="edge", directions=[o.direction for o in config.objectives]
    )
    record(study, config, 0)
    dists = distributions(config)
    for each in params:
        metrics = config.problem.evaluate({**config.fixed, **each})
        study.add_trial(
            create_trial(
                values=[metrics[o.metric] for o in config.objectives],
                params=each,
                distributions={k: dists[k] for k in each},
                user_attrs=metrics,
            )
        )
    return study, read(study, "memory")


def _all_pictures(study: optuna.Study, info: Any) -> None:
    view = study_view(study, info)
    for draw in (plots.front_png, plots.hypervolume_png, plots.importances_png, plots.knobs_png):
        _assert_picture(draw(view), min_width=300)


def test_empty_study_gives_pictures_that_say_so(tmp_path: Path) -> None:
    study, info = _study(
        {
            "space": {"pid.lock_mode": ["once", "twice"]},
            "objectives": ["pid_bytes", "clone_latency_p99_ns"],
        },
        [],
    )
    view = study_view(study, info)
    for draw in (plots.front_png, plots.hypervolume_png, plots.importances_png, plots.knobs_png):
        assert draw(view).startswith(PNG_SIGNATURE)
    out = write_report(study, info, "memory", tmp_path / "empty.html")
    text = " ".join(_parse(out.read_text()).text)
    assert "no knee policy" in text and "no front and no hypervolume" in text


def test_identical_outcomes_and_a_single_knob_explain_missing_importances() -> None:
    objectives = ["pid_bytes", "clone_latency_p99_ns"]
    same = {"pid.range_width": 64, "pid.range_share_cpus": 4}
    space = {"pid.range_width": [0, 64], "pid.range_share_cpus": {"low": 1, "high": 8}}
    study, info = _study({"space": space, "objectives": objectives}, [same] * 4)
    ranked = dict(study_view(study, info).importances)
    assert ranked["pid_bytes"] == "every trial has the same value: no knob changes it"
    _all_pictures(study, info)

    lock = [{"pid.lock_mode": m} for m in ("once", "twice", "once")]
    one, one_info = _study(
        {"space": {"pid.lock_mode": ["once", "twice"]}, "objectives": objectives}, lock
    )
    one_view = study_view(one, one_info)
    reasons = [why for _, why in one_view.importances]
    assert all(isinstance(w, str) and "only one knob (pid.lock_mode)" in w for w in reasons)
    _assert_picture(plots.importances_png(one_view), min_width=300)


def test_three_objectives_and_a_maximised_one() -> None:
    import matplotlib.pyplot as plt

    rng = np.random.default_rng(0)
    params = [
        {"pid.range_width": int(w), "pid.range_share_cpus": int(c)}
        for w, c in zip(rng.choice([0, 16, 64, 1024], 12), rng.integers(1, 33, 12), strict=True)
    ]
    job = {
        "space": {
            "pid.range_width": [0, 16, 64, 1024],
            "pid.range_share_cpus": {"low": 1, "high": 32},
        },
        "objectives": ["pid_bytes", "clone_latency_p99_ns", "clone_throughput_per_s"],
    }
    study, info = _study(job, params)
    assert info.objectives[2].direction == "maximize"
    _all_pictures(study, info)
    assert plt.get_fignums() == []  # figures never go through pyplot's registry


def test_report_cards_for_chosen_policies(folder: Path) -> None:
    chosen = run_cli(
        "report",
        "quickstart",
        "--out",
        "chosen.html",
        "--select",
        "knee",
        "--select",
        "min:pid_bytes,clone_latency_p99_ns<=110%",
        cwd=folder,
    )
    assert chosen.returncode == 0, chosen.stderr
    page = (folder / "chosen.html").read_text()
    assert 'id="report-card"' in page
    assert 'id="report-card-min-pid-bytes-clone-latency-p99-ns-110"' in page
    assert page.count("memory saved") == 2
    bad = run_cli("report", "quickstart", "--out", "bad.html", "--select", "min:nope", cwd=folder)
    assert_one_line_error(bad, "--select", "unknown metric 'nope'")
    assert not (folder / "bad.html").exists()
