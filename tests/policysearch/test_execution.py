"""Behaviour every executor must have, written once and applied to each executor."""

from __future__ import annotations

import pytest

from objectives import baseline, load_scenario, simulate
from objectives.problem import ScenarioProblem
from policysearch.run.executors import EXECUTORS, EvalTask, ExecutorOptions, make_executor

SCENARIO = load_scenario("thread-churn-20")
PROBLEM = ScenarioProblem(SCENARIO)
POINTS = [{"pid.range_width": w} for w in (0, 16, 64, 250, 1024)]


@pytest.fixture(params=sorted(EXECUTORS))
def executor(request, ray_address):
    # every registered executor; Ray reuses the session's Ray
    ex = make_executor(request.param, {PROBLEM.name: PROBLEM}, ExecutorOptions(workers=2))
    yield ex
    ex.close()


def _drain(executor, tasks):
    results, queue = {}, list(tasks)
    tickets = {}
    while queue or executor.running:
        while queue and executor.running < executor.capacity:
            task = queue.pop(0)
            tickets[executor.submit(task)] = task
        ticket, outcome = executor.wait_any()
        assert ticket not in results, "a ticket was returned twice"
        results[ticket] = outcome
    return tickets, results


def test_every_ticket_returned_once_with_the_simulated_metrics(executor) -> None:
    tasks = [EvalTask(PROBLEM.name, p, seed=5) for p in POINTS]
    tickets, results = _drain(executor, tasks)
    assert sorted(results) == sorted(tickets)
    for ticket, task in tickets.items():
        assert results[ticket].ok
        policy = baseline().with_knobs(task.params)
        assert results[ticket].metrics == simulate(policy, SCENARIO, 5).as_dict()


def test_submit_beyond_capacity_is_refused(executor) -> None:
    for _ in range(executor.capacity):
        executor.submit(EvalTask(PROBLEM.name, {}, 0))
    with pytest.raises(RuntimeError, match="executor is full"):
        executor.submit(EvalTask(PROBLEM.name, {}, 0))
    while executor.running:
        executor.wait_any()


def test_a_failing_task_reports_its_error_and_the_executor_goes_on(executor) -> None:
    bad = EvalTask(PROBLEM.name, {}, seed=-1)  # numpy refuses negative seeds
    good = EvalTask(PROBLEM.name, {}, seed=0)
    _, results = _drain(executor, [bad, good])
    outcomes = [results[t] for t in sorted(results)]
    assert not outcomes[0].ok and "negative" in outcomes[0].error.lower()
    assert outcomes[1].ok


def test_unknown_problem_is_refused(executor) -> None:
    with pytest.raises(KeyError, match="unknown problem"):
        executor.submit(EvalTask("nowhere", {}, 0))
