"""A job over a scenario mix: the aggregation syntax, a search end to end (serial and Ray), the
per-scenario breakdown and the report section."""

from __future__ import annotations

import argparse
import dataclasses
import io
import json
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from objectives import CATALOGUE, load_scenario, simulate
from policysearch.analysis.breakdown import breakdown, summary
from policysearch.analysis.view import study_view
from policysearch.commands import COMMANDS
from policysearch.commands import breakdown as breakdown_command
from policysearch.errors import BadInput
from policysearch.jobs.config import Constraint, Objective, job_from_mapping, load_job
from policysearch.outputs.report import report_html
from policysearch.run.driver import RunOptions, run_search
from policysearch.run.study_meta import read
from tests.conftest import CONFIGS

JOB_FILE = CONFIGS / "jobs" / "fleet-mix.yaml"
MIX = {"mixed-fleet-server": 0.6, "fork-exec-storm": 0.3, "x86-256cpu-1m-threads": 0.1}
SPACE = {"pid.range_width": [0, 250, 1024], "stacks.initial_kib": [4, 8, 16]}


def _job(**keys):
    data = {"scenarios": MIX, "space": SPACE, "objectives": ["kernel_memory_bytes"], **keys}
    return job_from_mapping(data, source="mix.yaml", base_dir=Path("."), default_name="mix")


def test_the_fleet_mix_job_names_the_aggregated_metrics() -> None:
    job = load_job(JOB_FILE)
    assert [s.name for s in job.problem.scenarios()] == list(MIX)
    assert job.objectives == (
        Objective("kernel_memory_bytes:weighted", "minimize"),
        Objective("clone_latency_p99_ns", "minimize"),
        Objective("fork_latency_p99_ns@fork-exec-storm", "minimize"),
    )
    assert job.constraints == (
        Constraint("fork_throughput_per_s@fork-exec-storm", ">=", 150000.0),
        Constraint("oom_kills_per_day", "<=", 0.0),
        Constraint("stack_overflows_per_day", "<=", 1e-6),  # hard limits: every scenario
        Constraint("pid_space_use_fraction", "<=", 1.0),
    )


def test_objectives_default_to_worst_and_take_any_aggregate_or_scenario() -> None:
    job = _job(
        objectives=[
            "pid_bytes",
            {"metric": "clone_throughput_per_s", "across": "weighted"},
            {"metric": "fork_latency_p99_ns", "across": "best"},
            {"metric": "kernel_memory_bytes", "across": "x86-256cpu-1m-threads"},
            "cpu_overhead_fraction:weighted",
        ]
    )
    assert [(o.metric, o.direction) for o in job.objectives] == [
        ("pid_bytes", "minimize"),
        ("clone_throughput_per_s:weighted", "maximize"),
        ("fork_latency_p99_ns:best", "minimize"),
        ("kernel_memory_bytes@x86-256cpu-1m-threads", "minimize"),
        ("cpu_overhead_fraction:weighted", "minimize"),
    ]


def test_constraints_hold_in_every_scenario_unless_they_name_one() -> None:
    job = _job(
        constraints=[
            "clone_throughput_per_s >= 100000",  # maximised, >=: the smallest = worst
            "clone_throughput_per_s <= 9e9",  # maximised, <=: the largest = best
            "kernel_memory_bytes <= 3e10",  # minimised, <=: the largest = worst
            "kernel_memory_bytes >= 1",  # minimised, >=: the smallest = best
            "clone_throughput_per_s >= 500000 in mixed-fleet-server",
            "pid_bytes:weighted <= 1e9",
            "stack_overflows_per_day <= 0 in fork-exec-storm",
        ]
    )
    assert [str(c) for c in job.constraints] == [
        "clone_throughput_per_s >= 100000",
        "clone_throughput_per_s:best <= 9000000000",
        "kernel_memory_bytes <= 30000000000",
        "kernel_memory_bytes:best >= 1",
        "clone_throughput_per_s@mixed-fleet-server >= 500000",
        "pid_bytes:weighted <= 1000000000",
        "stack_overflows_per_day@fork-exec-storm <= 0",
        "stack_overflows_per_day <= 0.000001",  # the hard limit is still added, everywhere
        "pid_space_use_fraction <= 1",
    ]


@pytest.mark.parametrize(
    ("keys", "fragment"),
    [
        (
            {"objectives": [{"metric": "pid_bytes", "across": "nowhere"}]},
            "objectives[0].across: found 'nowhere', expected worst, weighted, best or one of the "
            "job's scenarios: fork-exec-storm, mixed-fleet-server, x86-256cpu-1m-threads",
        ),
        (
            {"objectives": [{"metric": "pid_byte", "across": "worst"}]},
            "objectives[0]: found 'pid_byte', expected a metric from the catalogue; expected one "
            f"of {len(CATALOGUE)} names; did you mean pid_bytes",
        ),
        (
            {"objectives": [{"metric": "pid_bytes", "across": 3}]},
            "objectives[0].across: found 3",
        ),
        (
            {"objectives": [{"metric": "pid_bytes", "over": "worst"}]},
            "across: worst|weighted|best|SCENARIO",
        ),
        (
            {"objectives": ["pid_bytes", {"metric": "pid_bytes", "across": "worst"}]},
            "repeated metrics",
        ),
        (
            {"constraints": ["pid_bytes <= 5 in nowhere"]},
            "constraints[0] (in): found 'nowhere'",
        ),
        (
            {"constraints": ["stack_overflows_per_day <= 2 in fork-exec-storm"]},
            "stack_overflows_per_day has a hard limit of 0.000001",
        ),
        (
            {"constraints": ["pid_bytes <= 5 on fork-exec-storm"]},
            "optionally followed by 'in SCENARIO'",
        ),
    ],
)
def test_bad_aggregations_are_refused_with_the_key_path(keys, fragment) -> None:
    with pytest.raises(BadInput) as caught:
        _job(**keys)
    assert fragment in str(caught.value), str(caught.value)


def test_across_needs_a_mix() -> None:
    with pytest.raises(BadInput, match="across and 'in SCENARIO' need a job that names several"):
        job_from_mapping(
            {
                "scenario": "thread-churn-20",
                "space": SPACE,
                "objectives": [{"metric": "pid_bytes", "across": "worst"}],
            },
            source="one.yaml",
            base_dir=Path("."),
            default_name="one",
        )
    with pytest.raises(
        BadInput, match="constraints\\[0\\] \\(in\\): found 'thread-churn-20', but pid_bytes"
    ):
        job_from_mapping(
            {
                "scenario": "thread-churn-20",
                "space": SPACE,
                "objectives": ["pid_bytes"],
                "constraints": ["pid_bytes <= 5 in thread-churn-20"],
            },
            source="one.yaml",
            base_dir=Path("."),
            default_name="one",
        )


def _run(tmp_path: Path, executor: str, address: str | None = None) -> optuna.Study:
    job = load_job(JOB_FILE)
    job = dataclasses.replace(job, sampler=dataclasses.replace(job.sampler, seed=1))
    opts = RunOptions(
        trials=40,
        workers=2,
        executor=executor,
        storage=str(tmp_path / f"{executor}.journal"),
        study_name="fleet-mix",
        seed=1,
        address=address,
    )
    result = run_search(job, opts, out=io.StringIO())
    assert result.completed_now == 40
    return result.study


def _check_study(study: optuna.Study, storage: str) -> None:
    """Every trial stores every scenario's metrics; its objectives are their aggregates."""
    info = read(study, storage)
    trials = study.get_trials(states=(TrialState.COMPLETE,))
    assert len(trials) == 40
    trial = trials[-1]
    stored = trial.user_attrs["metrics"]
    policy = info.problem.policy(info.point(trial.params))
    each = {name: simulate(policy, load_scenario(name)) for name in MIX}
    for name in MIX:
        assert stored[f"clone_latency_p99_ns@{name}"] == each[name]["clone_latency_p99_ns"]
    assert trial.values[0] == pytest.approx(
        sum(w * each[n]["kernel_memory_bytes"] for n, w in MIX.items()), rel=1e-12
    )
    assert trial.values[1] == max(each[n]["clone_latency_p99_ns"] for n in MIX)
    assert trial.values[2] == each["fork-exec-storm"]["fork_latency_p99_ns"]


@pytest.fixture(scope="module")
def serial_study(tmp_path_factory) -> tuple[optuna.Study, Path]:
    folder = tmp_path_factory.mktemp("mix")
    return _run(folder, "serial"), folder


def test_a_three_scenario_mix_runs_serially_storing_each_scenario(serial_study) -> None:
    study, folder = serial_study
    _check_study(study, str(folder / "serial.journal"))


def test_a_three_scenario_mix_runs_on_ray_with_the_same_trials(
    tmp_path, ray_address, serial_study
) -> None:
    study = _run(tmp_path, "ray", ray_address)
    _check_study(study, str(tmp_path / "ray.journal"))
    serial = serial_study[0].get_trials(states=(TrialState.COMPLETE,))
    ray = study.get_trials(states=(TrialState.COMPLETE,))
    assert [t.values for t in ray] == [t.values for t in serial]


def test_breakdown_of_the_knee_per_scenario_against_today(serial_study) -> None:
    study, folder = serial_study
    info = read(study, str(folder / "serial.journal"))
    view = study_view(study, info)
    rows = breakdown(view, view.knee)
    assert [r.scenario for r in rows] == list(MIX)
    assert [r.weight for r in rows] == pytest.approx(list(MIX.values()))
    policy = info.problem.policy(info.point(view.knee.params))
    from objectives import baseline

    for row in rows:
        scenario = load_scenario(row.scenario)
        mine = simulate(policy, scenario)["kernel_memory_bytes"]
        today = simulate(baseline(), scenario)["kernel_memory_bytes"]
        assert row.saved_bytes == pytest.approx(today - mine, rel=1e-12)
    assert any(r.latency["fork_latency_p99_ns"].applies for r in rows)
    # x86-256cpu-1m-threads creates no task: its latencies are n/a, not a change
    assert not any(c.applies for c in rows[2].latency.values())
    text = summary(rows)
    assert "on mixed-fleet-server" in text and "on fork-exec-storm" in text


def test_breakdown_command_prints_a_table_and_json(serial_study, capsys) -> None:
    _, folder = serial_study
    assert breakdown_command in COMMANDS
    parser = argparse.ArgumentParser()
    breakdown_command.add_parser(parser.add_subparsers(dest="command"))
    storage = str(folder / "serial.journal")
    args = parser.parse_args(["breakdown", "fleet-mix", "--storage", storage])
    assert breakdown_command.run(args) == 0
    out = capsys.readouterr().out
    assert "knee" in out and "saves" in out
    for name in MIX:
        assert name in out
    args = parser.parse_args(
        ["breakdown", "fleet-mix", "--storage", storage, "--select", "trial:3", "--format", "json"]
    )
    assert breakdown_command.run(args) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["trial"] == 3 and [s["scenario"] for s in data["scenarios"]] == list(MIX)
    # a bare catalogue name is the worst case over the scenarios, so selection rules work
    args = parser.parse_args(
        ["breakdown", "fleet-mix", "--storage", storage, "--select", "min:kernel_memory_bytes"]
    )
    assert breakdown_command.run(args) == 0
    assert "min:kernel_memory_bytes" in capsys.readouterr().out


def test_the_report_shows_the_breakdown_and_a_card_per_scenario(serial_study) -> None:
    study, folder = serial_study
    info = read(study, str(folder / "serial.journal"))
    page = report_html(study, info, "serial.journal")
    section = page[page.index('<section id="breakdown">') :]
    section = section[: section.index("</section>")]
    for name in MIX:
        assert name in section
        assert f"report card on {name}" in page
    assert "saves" in section


def test_a_mix_policy_exported_is_evaluated_on_every_scenario_as_predicted(
    serial_study, tmp_path: Path, capsys
) -> None:
    """The policy file keeps every scenario of the mix in full; ``evaluate`` needs nothing more."""
    from policysearch.cli import main

    _, folder = serial_study
    out = tmp_path / "knee.yaml"
    storage = str(folder / "serial.journal")
    assert main(["export", "fleet-mix", "--storage", storage, "--out", str(out)]) == 0
    capsys.readouterr()
    assert main(["evaluate", str(out), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    shown = [data["scenario"], *(other["scenario"] for other in data["others"])]
    assert shown == list(MIX)
    assert data["matches_prediction"] is True
    assert main(["evaluate", str(out)]) == 0
    assert "prediction reproduced exactly" in capsys.readouterr().out
    # on one scenario of the mix only, there is no prediction to compare with
    assert main(["evaluate", str(out), "--scenario", "fork-exec-storm", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["matches_prediction"] is None
