"""Issue 8: a fifth family registered in a test is searchable end to end, with no other edit.

The toy family of ``tests/objectives/toy_family/`` (one folder: one knob, a memory metric, a
hard-limited risk and a sysctl), registered with one line, appears in ``knobs`` and
``metrics``, a job searches it, its hard limit is applied, the study's front is made of it,
the report card weighs its risk and ``export --format sysctl`` writes its line.
"""

from __future__ import annotations

import io
from pathlib import Path

import optuna
import pytest

from objectives import baseline, load_scenario, register_family, unregister_family
from policysearch.analysis.report_card import Change, render_cards, report_card
from policysearch.analysis.view import study_view
from policysearch.cli import main
from policysearch.jobs.config import job_from_mapping
from policysearch.run.driver import RunOptions, run_search
from policysearch.run.storage import open_storage
from policysearch.run.study_meta import read
from tests.conftest import CONFIGS
from tests.objectives import toy_family


@pytest.fixture
def toy():
    family = register_family(toy_family.FAMILY)
    try:
        yield family
    finally:
        unregister_family("toy")


def test_the_cli_lists_a_registered_familys_knobs_and_metrics(toy, capsys) -> None:
    assert main(["knobs"]) == 0
    assert "toy.level" in capsys.readouterr().out
    assert main(["metrics"]) == 0
    out = capsys.readouterr().out
    assert "toy_bytes" in out and "toy_risk" in out


def test_a_job_searches_a_registered_family_and_its_front_is_made_of_it(toy, tmp_path) -> None:
    job = job_from_mapping(
        {
            "scenario": "thread-churn-20",
            "space": {"toy.level": [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]},
            "objectives": ["toy_bytes", {"metric": "toy_risk", "direction": "maximize"}],
            "sampler": {"name": "random", "seed": 3},
            "trials": 30,
        },
        source="toy.yaml",
        base_dir=CONFIGS / "jobs",
        default_name="toy",
    )
    # the family's hard limit is applied like the built-in stack overflow limit
    assert "toy_risk <= 5" in [str(c) for c in job.constraints]
    url = str(tmp_path / "toy.journal")
    opts = RunOptions(
        trials=30,
        workers=1,
        executor="serial",
        storage=url,
        study_name="toy",
        seed=0,
    )
    run_search(job, opts, out=io.StringIO())
    study = optuna.load_study(study_name="toy", storage=open_storage(url))
    view = study_view(study, read(study, url))
    levels = sorted(t.params["toy.level"] for t in view.front)
    # more level: more bytes and more risk; the risk may not exceed 5, so the front is 0..5
    assert levels == sorted(set(levels)) and set(levels) <= set(range(6))
    assert {0, 5} <= set(levels)
    assert all(t.params["toy.level"] <= 5 for t in view.front)
    # its kernel.py gives the sysctl line of the exported policy
    out = tmp_path / "toy.sysctl"
    assert main(["export", "toy", "--storage", url, "--select", "min:toy_bytes",
                 "--format", "sysctl", "--out", str(out)]) == 0  # fmt: skip
    assert "kernel.toy_level = 0" in out.read_text().splitlines()


def test_the_report_card_weighs_a_registered_familys_risk(toy) -> None:
    policy = baseline().with_knobs({"toy.level": 4})
    (card,) = report_card(policy, [load_scenario("thread-churn-20")])
    assert card.risks["toy_risk"] == Change(2.0, 4.0)
    # within its hard limit (5) a risk is the level the family accepts: no loss
    assert card.memory_bound_verdict != "net loss"
    assert "toy_risk" in render_cards([card])
    (beyond,) = report_card(
        baseline().with_knobs({"toy.level": 6}), [load_scenario("thread-churn-20")]
    )
    assert beyond.memory_bound_verdict == "infeasible" and beyond.decided_by == "toy_risk"


def test_the_toy_is_gone_after_unregistering(tmp_path: Path) -> None:
    from objectives import knob_catalogue, metric_catalogue

    assert "toy.level" not in knob_catalogue()
    assert "toy_bytes" not in metric_catalogue()
