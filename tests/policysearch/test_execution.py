"""Behaviour every executor must have, written once and applied to each registered executor."""

from __future__ import annotations

import pytest

from objectives import ScenarioProblem, baseline, load_scenario, simulate
from policysearch.run.executors import EXECUTORS, EvalTask, ExecutorOptions, make_executor

SCENARIO = load_scenario("thread-churn-20")
PROBLEM = ScenarioProblem(SCENARIO)
POINTS = [{"pid.range_width": w} for w in (0, 16, 64, 250, 1024, 4096, 8)]


@pytest.fixture(params=sorted(EXECUTORS))
def executor(request, ray_address):
    # every registered executor; Ray reuses the session's Ray
    options = ExecutorOptions(workers=2, batch_size=2)
    ex = make_executor(request.param, {PROBLEM.name: PROBLEM}, options)
    yield ex
    ex.close()


def _drain(executor, tasks, batch=2):
    """Keep the executor full; return submitted tasks by ticket and results in arrival order."""
    queue, submitted, arrived = list(tasks), {}, []
    while queue or executor.running:
        while queue and executor.running + min(batch, len(queue)) <= executor.capacity:
            chunk, queue = queue[:batch], queue[batch:]
            submitted.update(zip(executor.submit(chunk), chunk, strict=True))
        arrived += executor.wait()
    return submitted, arrived


def test_every_ticket_returned_once_in_submission_order_with_the_metrics(executor) -> None:
    tasks = [EvalTask(PROBLEM.name, p, seed=5) for p in POINTS]
    submitted, arrived = _drain(executor, tasks)
    tickets = [ticket for ticket, _ in arrived]
    assert tickets == sorted(submitted), "not every ticket once, in submission order"
    for ticket, outcome in arrived:
        assert outcome.ok, outcome.error
        policy = baseline().with_knobs(submitted[ticket].params)
        assert outcome.metrics == simulate(policy, SCENARIO).as_dict()


def test_submit_beyond_capacity_is_refused(executor) -> None:
    task = EvalTask(PROBLEM.name, {}, 0)
    executor.submit([task] * executor.capacity)
    with pytest.raises(RuntimeError, match="executor is full"):
        executor.submit([task])
    while executor.running:
        executor.wait()


def test_a_failing_task_reports_its_error_and_its_batch_goes_on(executor) -> None:
    good = EvalTask(PROBLEM.name, {}, seed=0)
    bad_choice = EvalTask(PROBLEM.name, {"pid.lock_mode": "thrice"}, seed=0)
    bad_knob = EvalTask(PROBLEM.name, {"pid.range_width": -5}, seed=0)
    _, arrived = _drain(executor, [bad_choice, good, bad_knob, good], batch=4)
    outcomes = [outcome for _, outcome in arrived]
    assert not outcomes[0].ok and "thrice" in outcomes[0].error
    assert outcomes[1].ok and outcomes[3].ok
    assert not outcomes[2].ok and "pid.range_width" in outcomes[2].error
    assert outcomes[1].metrics == outcomes[3].metrics


def test_unknown_problem_is_refused(executor) -> None:
    with pytest.raises(KeyError, match="unknown problem"):
        executor.submit([EvalTask("nowhere", {}, 0)])
    assert executor.running == 0
